#!/usr/bin/env bash
# Every test of the project, as README.md's second command and CI run it:
#   1. the Rust suite (unit, integration, golden files, the independent Python
#      reference's comparison, doc tests): `cargo test --release`;
#   2. every shipped scenario's HTML report rendered in headless Chromium
#      (tests/browser/check.sh: no console errors, every chart drawn), Chromium installed
#      from Debian's packages first if it is missing (as root).
# Screenshots go to ${SCREENSHOTS:-a temporary folder}, for a person to look at.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --release

pages="$(mktemp -d)"
trap 'rm -rf "$pages"' EXIT
for scenario in scenarios/*.json; do
    name="$(basename "$scenario" .json)"
    ./target/release/consortium-sim run "$scenario" --trials 5000 --quiet \
        --html "$pages/$name.html" >/dev/null
done
CI="${CI:-true}" bash tests/browser/check.sh --out "${SCREENSHOTS:-$pages/screenshots}" "$pages"/*.html
