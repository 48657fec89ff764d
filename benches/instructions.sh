#!/usr/bin/env bash
# Counts the instructions the engine's hot loop executes per partner-year, for every
# shipped scenario (or those named as arguments), under valgrind's cachegrind: a
# count that does not move when the machine is busy, unlike a time. Each scenario runs
# twice, 20,000 and 40,000 trials; the difference is divided by the extra
# partner-years, so that what runs once (loading, compiling the plan, building PERT
# tables) drops out. Use it to judge a change that keeps every figure the same to the
# bit; instructions are not time (a cache miss or a division costs more than an add),
# so confirm a real gain with the speed guard on a quiet machine.
#
# Needs valgrind (Debian: apt-get install valgrind). Takes about 20 s a scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "instructions.sh needs valgrind (apt-get install valgrind)" >&2; exit 2; }
bin=$(cargo bench --bench instructions --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable"):
        print(m["executable"])')
[[ -x "$bin" ]] || { echo "instructions.sh: the bench did not build" >&2; exit 1; }
scenarios=("$@")
if [[ ${#scenarios[@]} -eq 0 ]]; then
    scenarios=($(ls scenarios/*.json | xargs -n1 basename | sed 's/\.json$//'))
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The instructions valgrind counted, and the partner-years the run said it ran.
count() {
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$work/out" \
        "$bin" "$1" "$2" > "$work/said" 2> "$work/log"
    local ir
    ir=$(sed -n 's/.*I *refs: *//p' "$work/log" | tr -d ,)
    echo "$ir $(cut -d' ' -f1 < "$work/said")"
}
printf '%-36s %16s\n' scenario "per partner-year"
for s in "${scenarios[@]}"; do
    read -r ir1 py1 < <(count "$s" 20000)
    read -r ir2 py2 < <(count "$s" 40000)
    printf '%-36s %16s\n' "$s" "$(python3 -c "print(f'{($ir2 - $ir1) / ($py2 - $py1):.1f}')")"
done
