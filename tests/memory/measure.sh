#!/bin/sh
# Compares the memory guard's estimate with the peak resident memory each command
# reaches, on small and very wide scenarios. The estimate is read from the guard's own
# refusal (`--max-memory 1K`), the peak from `/usr/bin/time -v` (apt-get install time).
# Run from the repository root after `cargo build --release`; takes about a minute.
set -eu
bin=${BIN:-target/release/consortium-sim}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for n in 1000 10000; do python3 tests/memory/wide.py "$n" > "$dir/wide$n.json"; done
small=scenarios/four_districts_back_office.json
"$bin" run "$small" --trials 1000000 --seed 3 --shard 0/2 --partial "$dir/p0.bin" -q >/dev/null
"$bin" run "$small" --trials 1000000 --seed 3 --shard 1/2 --partial "$dir/p1.bin" -q >/dev/null
"$bin" run "$dir/wide10000.json" --trials 1000 --shard 0/2 --partial "$dir/w0.bin" -q >/dev/null
"$bin" run "$dir/wide10000.json" --trials 1000 --shard 1/2 --partial "$dir/w1.bin" -q >/dev/null

# estimate CMD...: the MiB figure of the guard's refusal.
estimate() {
    "$@" --max-memory 1K 2>&1 >/dev/null | sed -n 's/.* need about \([0-9.]*\) \(MiB\|KiB\).*/\1 \2/p' |
        awk '{ printf "%.1f", ($2 == "KiB") ? $1 / 1024 : $1 }'
}
# measured CMD...: the peak resident set in MiB.
measured() {
    /usr/bin/time -v "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p' |
        awk '{ printf "%.1f", $1 / 1024 }'
}
row() {
    label=$1
    shift
    e=$(estimate "$@")
    m=$(measured "$@")
    awk -v l="$label" -v e="$e" -v m="$m" \
        'BEGIN { printf "| %-44s | %9s | %9s | %+6.1f %% |\n", l, e, m, 100 * (e - m) / m }'
}
echo "| command | estimate MiB | peak RSS MiB | error |"
echo "|---|---:|---:|---:|"
row "run 4 partners, 1,000 trials" "$bin" run "$small" --trials 1000 --out "$dir/r.json"
row "run 4 partners, 1,000,000 trials" "$bin" run "$small" --trials 1000000 --out "$dir/r.json"
row "run 4 partners, 10,000,000 trials" "$bin" run "$small" --trials 10000000 -q
row "run 1,000 partners, 10,000 trials" "$bin" run "$dir/wide1000.json" --trials 10000 --out "$dir/r.json"
row "run 10,000 partners, 100 trials" "$bin" run "$dir/wide10000.json" --trials 100 --out "$dir/r.json"
row "run 10,000 partners, 1,000 trials" "$bin" run "$dir/wide10000.json" --trials 1000 --out "$dir/r.json"
row "run 10,000 partners, 1,000 trials, 8 threads" "$bin" run "$dir/wide10000.json" --trials 1000 --threads 8
row "run 10,000 partners, 100 trials, --html" "$bin" run "$dir/wide10000.json" --trials 100 --html "$dir/r.html"
row "run --target-se 1 --max-trials 200,000, 4 partners" "$bin" run "$small" --target-se 1 --max-trials 200000 -q
row "run --target-se 1 --max-trials 20,000, 1,000 partners" "$bin" run "$dir/wide1000.json" --target-se 1 --max-trials 20000 -q
row "trace --worst, 4 partners, 1,000,000 trials" "$bin" trace "$small" --worst --trials 1000000 -q
row "trace --worst, 10,000 partners, 1,000 trials" "$bin" trace "$dir/wide10000.json" --worst --trials 1000 -q
row "merge 2 parts, 4 partners, 1,000,000 trials" "$bin" merge "$dir/p0.bin" "$dir/p1.bin" --out "$dir/r.json"
row "merge 2 parts, 10,000 partners, 1,000 trials" "$bin" merge "$dir/w0.bin" "$dir/w1.bin" --out "$dir/r.json"
row "sweep 4 partners, 20 points x 100,000 trials" "$bin" sweep "$small" --param /service/efficiency=0.05:0.25:20 --trials 100000 -q --out "$dir/s.json"
row "sweep 1,000 partners, 200 points x 100 trials" "$bin" sweep "$dir/wide1000.json" --param /service/efficiency=0.05:0.25:200 --trials 100 -q --out "$dir/s.json" --csv "$dir/s.csv"
row "sweep 10,000 partners, 10 points x 1,000 trials" "$bin" sweep "$dir/wide10000.json" --param /service/efficiency=0.05:0.25:10 --trials 1000 -q --out "$dir/s.json"
row "sensitivity 4 partners, 100,000 trials" "$bin" sensitivity "$small" --trials 100000 -q --out "$dir/t.json"
row "compare 4 partners, 3 variants, 1,000,000 trials" "$bin" compare "$small" --variant a:/service/efficiency=0.1 --variant b:/service/efficiency=0.2 --trials 1000000 -q
row "compare 10,000 partners, 2 variants, 1,000 trials" "$bin" compare "$dir/wide10000.json" --variant a:/service/efficiency=0.1 --trials 1000 -q --out "$dir/c.json"
