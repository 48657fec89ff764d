#!/usr/bin/env bash
# Renders HTML reports in headless Chromium and checks that they display.
#
#   tests/browser/check.sh [--out DIR] REPORT.html...
#
# For each file: a screenshot DIR/NAME.png (DIR defaults to
# ${TMPDIR:-/tmp}/consortium-sim-screenshots; 1280 px wide and SCREENSHOT_HEIGHT,
# default 4000, tall), for a person to look at; the DOM after rendering; the browser's
# log. Fails if the page logs anything to the console (an error, an uncaught
# exception, a failed load), if any element with a data-chart attribute holds no <svg>
# in the rendered DOM, or if there are no charts at all. Then prints the page to PDF
# (DIR/NAME.pdf, A4 as the page's print CSS asks) and fails if any table's column
# header is missing from the PDF's text (pdftotext): a column cut off in print (behind a
# scroll bar, past the page's edge) is not in the PDF at all. Needs python3 (to read the
# DOM and the PDF's text) and pdftotext (poppler-utils, installed under CI like Chromium).
#
# Chromium: /usr/bin/chromium (Debian's package). If it is missing: with CI set, it is
# installed with apt-get (CI runs as root); otherwise the check is skipped (exit 0).
set -euo pipefail

out_dir=""
if [[ "${1:-}" == "--out" ]]; then
    out_dir="${2:?--out needs a directory}"
    shift 2
fi
if [[ $# -eq 0 ]]; then
    echo "usage: $0 [--out DIR] REPORT.html..." >&2
    exit 2
fi

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
    if [[ -n "${CI:-}" ]]; then
        echo "chromium not found: installing it (CI is set)" >&2
        apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else
        echo "SKIP: $CHROMIUM not found (install the chromium package, or set CI to install it)"
        exit 0
    fi
fi

if ! command -v pdftotext >/dev/null; then
    if [[ -n "${CI:-}" ]]; then
        echo "pdftotext not found: installing poppler-utils (CI is set)" >&2
        apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null
    else
        echo "SKIP: pdftotext not found (install the poppler-utils package, or set CI to install it)"
        exit 0
    fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out_dir="${out_dir:-${TMPDIR:-/tmp}/consortium-sim-screenshots}"
mkdir -p "$out_dir"

# Flags that keep the browser off the network and away from the user's profile.
flags=(
    --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --hide-scrollbars --mute-audio
)

# Runs chromium with a fresh profile; stdout to $1, stderr (the log) to $2, then the
# rest of the arguments. A timeout keeps a hung browser from hanging CI.
run_chromium() {
    local stdout="$1" stderr="$2"
    shift 2
    local profile
    profile="$(mktemp -d -p "$work")"
    timeout 120 "$CHROMIUM" "${flags[@]}" --user-data-dir="$profile" \
        --enable-logging=stderr --v=0 "$@" >"$stdout" 2>"$stderr"
}

# Console messages in a chromium log. Chromium logs every console message (errors,
# uncaught exceptions, failed loads, console.log alike) as INFO:CONSOLE without its
# level; a report has no script, so any message at all means something is wrong.
console_errors() {
    grep -E ':CONSOLE[:(]|Uncaught' "$1" || true
}

# Checks the rendered DOM: number of charts, and the names of charts with no <svg>.
check_dom() {
    python3 - "$1" <<'PY'
import sys
from html.parser import HTMLParser

class Charts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []      # (tag, chart name or None)
        self.charts = {}     # name -> number of <svg> inside
    def handle_starttag(self, tag, attrs):
        name = dict(attrs).get("data-chart")
        if name is not None:
            self.charts.setdefault(name, 0)
        if tag == "svg":
            for _, owner in self.stack:
                if owner is not None:
                    self.charts[owner] += 1
        self.stack.append((tag, name))
    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

p = Charts()
p.feed(open(sys.argv[1], encoding="utf-8").read())
missing = [n for n, svgs in p.charts.items() if svgs == 0]
print(len(p.charts), " ".join(missing))
PY
}

# Prints the column headers of the page's tables ($1, the HTML) that the PDF's text ($2)
# lacks, one a line. A header counts as present when its text, spaces removed, is inside
# one text block of the PDF (pdftotext -bbox-layout), or else when each of its words
# occurs in the PDF at least as often as all the tables' headers use it (a header
# wrapped over lines may be split between blocks, but a clipped column loses its words;
# a word broken after a hyphen counts whole).
missing_headers() {
    python3 - "$1" "$2" <<'PY'
import re, subprocess, sys
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser

class Headers(HTMLParser):
    def __init__(self):
        super().__init__()
        self.in_head = self.in_th = False
        self.text, self.headers = [], []
    def handle_starttag(self, tag, attrs):
        if tag == "thead":
            self.in_head = True
        elif tag == "th" and self.in_head:
            self.in_th, self.text = True, []
    def handle_endtag(self, tag):
        if tag == "thead":
            self.in_head = False
        elif tag == "th" and self.in_th:
            self.in_th = False
            if "".join(self.text).strip():
                self.headers.append("".join(self.text))
    def handle_data(self, data):
        if self.in_th:
            self.text.append(data)

p = Headers()
p.feed(open(sys.argv[1], encoding="utf-8").read())
xml = subprocess.run(["pdftotext", "-bbox-layout", sys.argv[2], "-"],
                     capture_output=True, text=True, check=True).stdout
xml = re.sub(r"<!DOCTYPE[^>]*>", "", re.sub(r'xmlns="[^"]*"', "", xml))
root = ET.fromstring(xml)
blocks = ["".join(w.text or "" for w in b.iter("word")) for b in root.iter("block")]
words = Counter(w.text for w in root.iter("word"))
used = Counter(w for h in p.headers for w in h.split())

def present(w, n):
    """Whether word w occurs n times, whole or broken after one of its hyphens
    ("Kensington-" then "upon-Linford" on the next line)."""
    if words[w] >= n:
        return True
    return any(words[w[:i + 1]] >= n and present(w[i + 1:], n)
               for i, c in enumerate(w[:-1]) if c == "-")
for h in p.headers:
    flat = re.sub(r"\s+", "", h)
    if any(flat in b for b in blocks):
        continue
    if all(present(w, used[w]) for w in h.split()):
        continue
    print(h)
PY
}

failed=0
for page in "$@"; do
    start=$(date +%s%N)
    name="$(basename "$page" .html)"
    url="file://$(realpath "$page")"
    shot="$out_dir/$name.png"
    problems=()
    rm -f "$shot"

    # One run does both: --dump-dom prints the DOM once the page has loaded, and
    # --screenshot saves the window.
    if ! run_chromium "$work/$name.dom" "$work/$name.log" --dump-dom \
        --screenshot="$shot" --window-size="1280,${SCREENSHOT_HEIGHT:-4000}" "$url"; then
        problems+=("chromium failed on the page: $(tail -n 5 "$work/$name.log")")
    fi
    [[ -s "$shot" ]] || problems+=("no screenshot was written")

    errors="$(console_errors "$work/$name.log")"
    [[ -z "$errors" ]] || problems+=("console errors: $errors")

    count=0 missing=""
    read -r count missing < <(check_dom "$work/$name.dom") || true
    [[ "$count" -gt 0 ]] || problems+=("no data-chart elements in the rendered DOM")
    [[ -z "${missing:-}" ]] || problems+=("charts without an <svg>: $missing")

    pdf="$out_dir/$name.pdf"
    rm -f "$pdf"
    if ! run_chromium /dev/null "$work/$name.print.log" --no-pdf-header-footer \
        --print-to-pdf="$pdf" "$url" || [[ ! -s "$pdf" ]]; then
        problems+=("chromium could not print the page to PDF")
    else
        lost="$(missing_headers "$page" "$pdf")"
        [[ -z "$lost" ]] || problems+=("columns lost in print (headers not in the PDF): ${lost//$'\n'/; }")
    fi

    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    if [[ ${#problems[@]} -eq 0 ]]; then
        printf 'ok    %s (%s charts, every column in print, %d.%01d s) screenshot %s\n' \
            "$page" "$count" $((ms / 1000)) $((ms % 1000 / 100)) "$shot"
    else
        failed=1
        printf 'FAIL  %s\n' "$page"
        printf '      %s\n' "${problems[@]}"
    fi
done
exit "$failed"
