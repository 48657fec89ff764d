#!/usr/bin/env bash
# The web app in a real browser: starts `consortium-sim serve` on a free loopback port
# with a scratch history and scenarios folder, and drives headless Chromium through
# WebDriver (chromedriver, Python selenium) through a finance officer's session
# (tests/browser/app.py): download a scenario as a workbook, upload one (kept as JSON),
# open a shipped scenario, make the efficiency invalid and see
# the error beside the field, fix it, change a partner's exit fee, run, check the
# figures against the command line's for the same scenario, seed and trials, find the
# run in History, open it again, compare it with the unchanged scenario's run, run
# a sweep, rank sets of agreement terms, and run with Latin hypercube sampling. Screenshots of every page go to DIR (default target/screenshots/app).
#
#   tests/browser/app.sh [--out DIR]
#
# Needs /usr/bin/chromium, /usr/bin/chromedriver (Debian's chromium and chromium-driver)
# and python3 with venv; selenium is installed from PyPI into target/browser-venv. With
# CI set, missing Debian packages are installed (as root); otherwise the test is
# skipped (exit 0) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

out_dir="target/screenshots/app"
if [[ "${1:-}" == "--out" ]]; then
    out_dir="${2:?--out needs a directory}"
fi

need=()
[[ -x /usr/bin/chromium ]] || need+=(chromium)
[[ -x /usr/bin/chromedriver ]] || need+=(chromium-driver)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [[ ${#need[@]} -gt 0 ]]; then
    if [[ -n "${CI:-}" ]]; then
        echo "installing ${need[*]} (CI is set)" >&2
        apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "SKIP: the web app's browser test needs ${need[*]} (or set CI to install them)"
        exit 0
    fi
fi

venv=target/browser-venv
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'selenium>=4.20,<5'
fi

sim=./target/release/consortium-sim
[[ -x "$sim" ]] || cargo build --release
work="$(mktemp -d)"
server=""
# Stops the server (which exits 130 on SIGTERM, as every command does) and removes the
# scratch folder; the script's own status is kept.
cleanup() {
    if [[ -n "$server" ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$sim" serve --bind 127.0.0.1:0 --scenarios "$work/scenarios" --db "$work/history.sqlite3" \
    >"$work/server.out" 2>"$work/server.err" &
server=$!
url=""
for _ in $(seq 100); do
    url="$(sed -n 's/^consortium-sim serves on \(http[^ ]*\)$/\1/p' "$work/server.out")"
    [[ -n "$url" ]] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$url" ]] || { echo "FAIL: the server printed no URL" >&2; exit 1; }

mkdir -p "$out_dir"
SIM="$sim" "$venv/bin/python" tests/browser/app.py "$url" "$out_dir"
