#!/usr/bin/env bash
# Every test of the project, as README.md's second command and CI run it:
#   1. the Rust suite (unit, integration, golden files, the independent Python
#      reference's comparison, doc tests): `cargo test --release`;
#   2. the Python package (python/), installed with pip into a virtual environment made
#      here (target/python-venv), as a user installs it, then its pytest suite, which
#      compares it with the release binary step 1 built (python3-venv installed from
#      Debian's packages first when CI is set and venv is missing);
#   3. every shipped scenario's HTML report, and wide pages of every kind, rendered in
#      headless Chromium and printed to PDF (tests/browser/check.sh: no console errors,
#      every chart drawn, every table column in print), Chromium and poppler-utils
#      installed from Debian's packages first if missing (as root);
#   4. the web app (`serve`) in headless Chromium driven through WebDriver
#      (tests/browser/app.sh: chromium-driver from Debian's packages, Python selenium
#      in a venv under target/): edit, run, figures equal to the command line's,
#      history, compare, sweep.
# Screenshots go to ${SCREENSHOTS:-a temporary folder} (the web app's to
# ${SCREENSHOTS:-target/screenshots}/app), for a person to look at.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --release

if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    if [ -n "${CI:-}" ]; then
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    else
        echo "tests/all.sh: python3 cannot make a virtual environment; install python3-venv" >&2
        exit 1
    fi
fi
venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q pytest pandas numpy tqdm matplotlib
"$venv/bin/python" -m pip install -q ./python
# pytest exits 5 when it collects no test: under `set -e` that fails the run, as it must.
"$venv/bin/python" -m pytest -q python/tests

pages="$(mktemp -d)"
trap 'rm -rf "$pages"' EXIT
for scenario in scenarios/*.json; do
    name="$(basename "$scenario" .json)"
    ./target/release/consortium-sim run "$scenario" --trials 5000 --quiet \
        --html "$pages/$name.html" >/dev/null
done
# Wide pages, which must print on A4 without losing a column: twelve partners with long
# names, in a grid sweep, a sensitivity study, a run, an agreement analysis (exit code 3
# if no set meets its limit) and a comparison.
wide=tests/browser/wide.json
sim=./target/release/consortium-sim
$sim sweep "$wide" --trials 2000 --quiet --param /service/efficiency=0.05:0.25:5 \
    --param /partners/0/exit_fee=0,500000 --html "$pages/wide-sweep.html" >/dev/null
$sim sensitivity "$wide" --trials 2000 --quiet --html "$pages/wide-sensitivity.html" >/dev/null
$sim run "$wide" --trials 2000 --quiet --html "$pages/wide-run.html" >/dev/null
$sim agreement "$wide" --trials 2000 --quiet --term '/partners/*/lock_in_years=0,3' \
    --term '/partners/*/exit_fee=0,500000' --max-worse-off 0.3 --html "$pages/wide-agreement.html" >/dev/null || [[ $? -eq 3 ]]
$sim compare "$wide" scenarios/*.json --trials 2000 --quiet --html "$pages/wide-compare.html" >/dev/null
# An agreement analysis of the informal social care scenario, the question README asks.
$sim agreement scenarios/social_care_informal.json --trials 2000 --quiet \
    --term '/partners/*/lock_in_years=0,3,5' --term '/partners/*/exit_fee=0,500000' \
    --term /disputes/resolution_probability=0.2,0.8 --max-worse-off 0.3 \
    --html "$pages/agreement.html" >/dev/null
# A replayed trial's page (trace --html), of a scenario whose go-live slips.
$sim trace scenarios/departments_shared_service_centre.json --trials 2000 --quiet --worst \
    --html "$pages/trace.html" >/dev/null
CI="${CI:-true}" bash tests/browser/check.sh --out "${SCREENSHOTS:-$pages/screenshots}" "$pages"/*.html
CI="${CI:-true}" bash tests/browser/app.sh --out "${SCREENSHOTS:-target/screenshots}/app"
