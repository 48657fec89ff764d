"""A finance officer's session in the web app, in headless Chromium through WebDriver.

    app.py URL OUT_DIR      (SIM: the consortium-sim binary, to check the figures)

Fails (exit 1) on the first step that does not do what it should, or if the browser's
console shows an error (a script error, a resource the Content-Security-Policy
refused). Saves a screenshot of every page in OUT_DIR.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import urllib.request
import zipfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

URL, OUT = sys.argv[1], sys.argv[2]
SIM = os.environ.get("SIM", "./target/release/consortium-sim")
SCENARIO = "four_districts_back_office.json"
TRIALS, SEED = 20000, 7
# The run's summary, as the page and the command line print it, without its timing line.
DOWNLOADS = tempfile.mkdtemp(prefix="app-downloads-")
TIMING = re.compile(r"\(\d+ threads?, [0-9.]+ s, [0-9,]+ trials/s\)")


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1800", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--hide-scrollbars"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": DOWNLOADS,
                                              "download.prompt_for_download": False})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


driver = browser()
wait = WebDriverWait(driver, 120)
step_no = 0


def shot(name):
    global step_no
    step_no += 1
    path = os.path.join(OUT, f"{step_no:02d}-{name}.png")
    driver.save_screenshot(path)
    print(f"  screenshot {path}")


def check_console(expected=()):
    """Fails on any error or warning the page logged since the last check, but those
    whose message holds one of `expected` (a refusal the test asked for)."""
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")
              and not any(x in e["message"] for x in expected)]
    if errors:
        raise AssertionError(f"console errors: {errors}")


def css(selector):
    return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))


def type_into(selector, text):
    field = css(selector)
    field.clear()
    field.send_keys(text)


def cli_summary(scenario_bytes, trials, seed, sampling="plain"):
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
        f.write(scenario_bytes)
    try:
        out = subprocess.run([SIM, "run", f.name, "--trials", str(trials), "--seed", str(seed),
                              "--sampling", sampling],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    return TIMING.sub("TIMING", out)


def edited_workbook(folder, name, edits):
    """SCENARIO as a workbook (`convert`), written to `folder` as `name` with its parts'
    XML edited (`edits` maps a part to (pattern, replacement) pairs for re.sub, each of
    which must match) and without the request to calculate on opening, as LibreOffice
    saves a workbook a program wrote. Returns its path."""
    book = os.path.join(folder, "converted.xlsx")
    subprocess.run([SIM, "convert", os.path.join("scenarios", SCENARIO), book],
                   capture_output=True, check=True)
    edits = dict(edits)
    edits.setdefault("xl/workbook.xml", []).append((' fullCalcOnLoad="1"', ""))
    path = os.path.join(folder, name)
    with zipfile.ZipFile(book) as z, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in z.infolist():
            data = z.read(item.filename).decode("utf-8")
            for pattern, replacement in edits.get(item.filename, []):
                assert re.search(pattern, data), (item.filename, pattern)
                data = re.sub(pattern, replacement, data)
            out.writestr(item, data)
    return path


def api_path(href):
    """The path of a link's URL (from /api/), for fetch."""
    return "/api/" + href.split("/api/", 1)[1]


def fetch(path):
    with urllib.request.urlopen(URL.rstrip("/") + path, timeout=60) as r:
        return r.read()


def run_from_page(trials, seed, label, sampling=None):
    """On the Run page: sets trials, seed, label (and sampling, if given), runs, waits for
    the Results page."""
    css("#start")
    type_into("#trials", str(trials))
    type_into("#seed", str(seed))
    type_into("#label", label)
    if sampling:
        Select(css("#sampling")).select_by_value(sampling)
    css("#start").click()
    shot("run")
    wait.until(lambda d: "#/results/" in d.current_url)
    css("#summary")
    return int(driver.current_url.rsplit("/", 1)[1])


try:
    # Scenarios: the shipped ones are listed.
    driver.get(URL)
    table = css("#scenarios")
    assert SCENARIO in table.text, table.text
    shot("scenarios")

    # Each scenario downloads as a workbook too; a workbook uploads, kept as JSON.
    excel = css(f'a[data-xlsx="{SCENARIO}"]').get_attribute("href")
    assert fetch(api_path(excel)).startswith(b"PK"), excel
    with tempfile.TemporaryDirectory() as scratch:
        # Named as a Mac names a copy: letters and separate accents ("e" then U+0301),
        # which the page composes before the server checks the name.
        book = os.path.join(scratch, "e\u0301tude (1).xlsx")
        subprocess.run([SIM, "convert", os.path.join("scenarios", SCENARIO), book],
                       capture_output=True, check=True)
        css("#upload").send_keys(book)
        # Read in one script: the list is drawn again while the upload ends.
        status = wait.until(lambda d: d.execute_script(
            "const s = document.getElementById('upload-status'); return s && s.textContent"))
    status = unicodedata.normalize("NFC", status)
    assert status.startswith("Saved \u00e9tude (1).xlsx as \u00e9tude (1).json"), status
    assert "\u00e9tude (1).json" in css("#scenarios").text
    kept = css('a[data-xlsx="\u00e9tude (1).json"]').get_attribute("href")
    assert fetch(api_path(kept)).startswith(b"PK"), kept
    assert not driver.find_elements(By.ID, "upload-notices")
    shot("scenarios-uploaded")

    # A workbook whose formula was saved as 0 and never calculated (as LibreOffice keeps
    # one a program wrote): kept, with the engine's warning at its cell.
    with tempfile.TemporaryDirectory() as scratch:
        zeroed = edited_workbook(scratch, "zeroed.xlsx", {
            "xl/worksheets/sheet3.xml": [(r'(<c r="J3"[^>]*>)<v>[^<]*</v>', r"\g<1><f>J2*0</f><v>0</v>")],
        })
        css("#upload").send_keys(zeroed)
        told = wait.until(lambda d: d.execute_script(
            "const t = document.getElementById('upload-notices'); return t && t.textContent"))
    assert told.startswith("Warning: Partners!J3 (/partners/1/exit_fee) is 0, the saved value of its formula =J2*0: "), told
    assert css("#upload-status").text.startswith("Saved zeroed.xlsx as zeroed.json")
    shot("scenarios-formula-warning")

    # A workbook refused for a mistake of its own (text in a number cell) whose trials
    # cell is a formula saved as 0: the problems, and the warning that explains one.
    with tempfile.TemporaryDirectory() as scratch:
        refused = edited_workbook(scratch, "refused.xlsx", {
            "xl/worksheets/sheet1.xml": [(r'(<c r="C8"[^>]*>)<v>[^<]*</v>', r"\g<1><f>1*0</f><v>0</v>")],
            "xl/worksheets/sheet3.xml": [(r'<c r="I4"( s="\d+")><v>[^<]*</v>',
                                          r'<c r="I4"\1 t="inlineStr"><is><t>zz</t></is>')],
        })
        css("#upload").send_keys(refused)
        # The earlier upload's notices are on the page until this one's answer comes.
        wait.until(lambda d: "refused.xlsx" in d.find_element(By.ID, "upload-status").text)
        told = css("#upload-notices").text
    assert told.startswith("Warning: Scenario!C8 (/trials) is 0, the saved value of its formula =1*0: "), told
    status = css("#upload-status").text
    assert 'Partners!I4 (/partners/2/lock_in_years): expected a number, found the text "zz"' in status, status
    assert "Scenario!C8 (/trials): 0 is out of range" in status, status
    # Listed once, under the error's first line.
    assert status.startswith("Error: refused.xlsx has 2 problems:\n"), status
    assert status.count("expected a number") == 1, status
    assert "refused.json" not in css("#scenarios").text
    # The 422 the browser logs is the refusal asked for; nothing else may be logged.
    check_console(expected=["/api/upload/refused.xlsx - Failed to load resource: the server "
                            "responded with a status of 422"])
    shot("scenarios-refused")

    # The editor, from a shipped scenario.
    driver.get(URL + "#/edit/" + SCENARIO)
    css("#valid")
    shot("editor")

    # An invalid efficiency: a PERT whose minimum is above its mode. The engine's
    # message appears beside the field, and Run is disabled.
    type_into('[data-input="/service/efficiency/pert/0"]', "0.3")
    problem = wait.until(lambda d: d.find_element(
        By.CSS_SELECTOR, '[data-problem="/service/efficiency"]').text or False)
    assert "min 0.3 is greater than mode 0.15" in problem, problem
    assert css("#invalid").is_displayed()
    assert not css("#run-draft").is_enabled()
    field = css('.field[data-path="/service/efficiency"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
    shot("editor-invalid")

    # Fixed: the error goes.
    type_into('[data-input="/service/efficiency/pert/0"]', "0.1")
    css("#valid")
    assert driver.find_element(By.CSS_SELECTOR, '[data-problem="/service/efficiency"]').text == ""

    # A rate typed as a whole percentage is valid, and the engine's warning shows under
    # the check as the command line words it; it goes once the rate is a fraction.
    top = driver.execute_script("return DRAFT.service.efficiency.pert[2]")
    type_into('[data-input="/service/efficiency/pert/2"]', "22")
    told = wait.until(lambda d: d.execute_script(
        "const t = document.querySelector('[data-problem=\"/service/efficiency\"]');"
        " return t && t.textContent.includes('is 22,') && t.textContent"))
    assert told.startswith("Warning: /service/efficiency/pert/2 is 22, that is 2200 %: did you mean 0.22?"), told
    assert css("#valid").text == "✓ The engine accepts this scenario. 1 warning, shown beside its field.", css("#valid").text
    field = css('.field[data-path="/service/efficiency"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
    shot("editor-warning")
    type_into('[data-input="/service/efficiency/pert/2"]', repr(top))
    wait.until(lambda d: d.find_elements(By.ID, "valid") and "warning" not in d.find_element(By.ID, "valid").text
               and d.find_element(By.CSS_SELECTOR, '[data-problem="/service/efficiency"]').text == "")

    # An emptied parameter box is a problem beside its field, not a 0; text that is not
    # a number is one too, not the field's default. Save and Run stay disabled and the
    # draft keeps what it had.
    field = css('[data-input="/service/efficiency/pert/0"]')
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    invalid = wait.until(lambda d: d.find_elements(By.ID, "invalid") and d.find_element(By.ID, "invalid").text)
    assert invalid == "1 box does not hold a number, shown beside the fields.", invalid
    problem = driver.find_element(By.CSS_SELECTOR, '[data-problem="/service/efficiency"]').text
    assert problem == "empty: every parameter of a distribution needs a number", problem
    assert not css("#save").is_enabled() and not css("#run-draft").is_enabled()
    assert driver.execute_script("return DRAFT.service.efficiency.pert[0]") == 0.1
    # Typed a key at a time: the draft holds 250000 until the "-" makes the text unreadable.
    type_into('[data-input="/partners/0/exit_fee"]', "250000-")
    wait.until(lambda d: d.find_element(By.ID, "invalid").text
               == "2 boxes do not hold a number, shown beside the fields.")
    fee = driver.execute_script("return DRAFT.partners[0].exit_fee")
    assert fee == 250000, f"the last number typed is kept, not the field deleted: {fee}"
    assert not css("#save").is_enabled()
    shot("editor-unreadable")

    # Both boxes put right; then the first partner's exit fee is raised.
    type_into('[data-input="/service/efficiency/pert/0"]', "0.1")
    css("#invalid")
    type_into('[data-input="/partners/0/exit_fee"]', "250000")
    css("#valid")
    assert driver.find_element(By.CSS_SELECTOR, '[data-problem="/service/efficiency"]').text == ""
    type_into('[data-input="/partners/0/exit_fee"]', "900000")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#valid"))
    fee = css('td[data-path="/partners/0/exit_fee"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", fee)
    shot("editor-partners")
    type_into("#save-name", "my case.json")
    # The draft as it stands, downloaded as a scenario workbook.
    css("#draft-xlsx").click()
    book = os.path.join(DOWNLOADS, "my case.xlsx")
    wait.until(lambda d: os.path.exists(book) and open(book, "rb").read(4) == b"PK\x03\x04")
    drafted = json.loads(subprocess.run([SIM, "convert", book, "-"], capture_output=True,
                                        text=True, check=True).stdout)
    assert drafted["partners"][0]["exit_fee"] == 900000, drafted["partners"][0]
    css("#save").click()
    saved = wait.until(lambda d: d.find_element(By.ID, "save-status").text or False)
    assert saved == "Saved as my case.json.", saved
    css("#run-draft").click()

    # Run the edited scenario; the Results page's figures are the command line's.
    edited = run_from_page(TRIALS, SEED, "efficiency min 0.1, exit fee 900k")
    page_mean = css("#mean-npv").text
    css("#summary-box summary").click()
    page_summary = TIMING.sub("TIMING", css("#summary").text)
    scenario = fetch(f"/api/runs/{edited}/scenario.json")
    as_run = json.loads(scenario)
    assert as_run["service"]["efficiency"] == {"pert": [0.1, 0.15, 0.22]}, as_run["service"]
    assert as_run["partners"][0]["exit_fee"] == 900000
    listed = json.loads(fetch(f"/api/runs/{edited}"))
    assert listed["file"].endswith("/my case.json"), listed["file"]
    cli = cli_summary(scenario, TRIALS, SEED)
    mean = re.search(r"^  mean +(\S+)", cli, re.M).group(1)
    assert page_mean == mean, (page_mean, mean)
    # The <pre> keeps every line; Selenium's text trims the ends of the whole.
    assert page_summary.strip() == cli.strip(), (page_summary, cli)
    print(f"  mean NPV on the page {page_mean} = the command line's {mean}")
    # The results workbook, made again from the kept scenario, seed and trials.
    css("#xlsx").click()
    results = os.path.join(DOWNLOADS, f"run-{edited}.xlsx")
    wait.until(lambda d: os.path.exists(results) and open(results, "rb").read(4) == b"PK\x03\x04")
    wait.until(lambda d: d.execute_script(
        "const f = document.querySelector('iframe.report');"
        "return f && f.contentDocument && f.contentDocument.querySelectorAll('[data-chart] svg').length > 0"))
    shot("results")
    driver.execute_script("document.querySelector('iframe.report').scrollIntoView()")
    shot("results-charts")

    # The unchanged scenario, same seed and trials, for the comparison.
    driver.get(URL + "#/run/" + SCENARIO)
    unchanged = run_from_page(TRIALS, SEED, "as shipped")

    # History lists both; open the edited run again from there.
    driver.get(URL + "#/history")
    css("#history")
    rows = driver.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    assert [int(r.get_attribute("data-run")) for r in rows] == [unchanged, edited]
    labels = [r.find_element(By.CSS_SELECTOR, "input[type=text]").get_property("value") for r in rows]
    assert labels == ["as shipped", "efficiency min 0.1, exit fee 900k"], labels
    shot("history")
    # A label is changed in place and kept; one the server refuses (a control character,
    # set here by script as a paste could; a text box drops line breaks itself) is put
    # back as kept, with the refusal shown.
    check_console()
    box = rows[0].find_element(By.CSS_SELECTOR, "input[type=text]")
    box.clear()
    box.send_keys("as shipped, relabelled", Keys.TAB)
    wait.until(lambda d: json.loads(fetch(f"/api/runs/{unchanged}"))["label"] == "as shipped, relabelled")
    driver.execute_script(
        "arguments[0].value = 'two\\u001blines'; arguments[0].dispatchEvent(new Event('change'))", box)
    said = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#label-said .error"))
    assert said.text == "Error: `label` holds the control character (U+001B) at character 4: a label is one line", said.text
    assert box.get_property("value") == "as shipped, relabelled"
    assert json.loads(fetch(f"/api/runs/{unchanged}"))["label"] == "as shipped, relabelled"
    check_console(expected=[f"/api/runs/{unchanged}"])
    shot("history-label-refused")
    rows[1].find_element(By.LINK_TEXT, "Open").click()
    wait.until(lambda d: d.current_url.endswith(f"#/results/{edited}"))
    assert css("#mean-npv").text == page_mean
    css("#summary-box summary").click()
    again = TIMING.sub("TIMING", css("#summary").text)
    assert again == page_summary

    # The saved scenario is listed after the shipped ones.
    driver.get(URL + "#/scenarios")
    saved = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#scenarios tbody tr")
             if "my case.json" in r.text]
    assert len(saved) == 1 and saved[0].startswith("Four districts"), saved

    # Compare the two from History: paired figures under common random numbers.
    driver.get(URL + "#/history")
    css("#history")
    for row in driver.find_elements(By.CSS_SELECTOR, "#history tbody tr"):
        row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    css("#compare").click()
    wait.until(lambda d: d.execute_script(
        "const f = document.querySelector('iframe.report');"
        "return f && f.contentDocument && f.contentDocument.readyState === 'complete'"
        " && f.contentDocument.querySelectorAll('[data-chart] svg').length > 0"))
    shot("compare")

    # A sweep of the efficiency.
    driver.get(URL + "#/sweep")
    Select(css("#scenario")).select_by_value(SCENARIO)
    type_into("#trials", "2000")
    type_into("#specs", "/service/efficiency=0.05:0.25:5")
    css("#start").click()
    wait.until(lambda d: d.execute_script(
        "const f = document.querySelector('iframe.report');"
        "return f && f.contentDocument && f.contentDocument.querySelectorAll('[data-chart] svg').length > 0"))
    assert fetch(api_path(css("#analysis-xlsx").get_attribute("href"))).startswith(b"PK")
    shot("sweep")

    # Agreement terms: the page's own example terms, the default limit of 30 %, and the
    # ranked sets with the frontier chart.
    driver.get(URL + "#/agreement")
    Select(css("#scenario")).select_by_value(SCENARIO)
    type_into("#trials", "2000")
    assert "/partners/*/lock_in_years=0,3,5" in css("#specs").get_attribute("value")
    assert css("#max-worse-off").get_attribute("value") == "0.3"
    css("#start").click()
    wait.until(lambda d: d.execute_script(
        "const f = document.querySelector('iframe.report');"
        "return f && f.contentDocument && f.contentDocument.querySelectorAll('[data-chart] svg').length > 0"))
    text = driver.execute_script("return document.querySelector('iframe.report').contentDocument.body.innerText")
    assert "of 6 sets meet the limits" in text, text[:2000]
    assert "transfers" in text.lower(), text[:2000]
    assert fetch(api_path(css("#analysis-xlsx").get_attribute("href"))).startswith(b"PK")
    print("  agreement: 6 sets ranked against the 30 % limit, frontier chart drawn")
    shot("agreement")

    # A Latin hypercube run: chosen on the Run page, said on the Results page, and the
    # command line's figures for --sampling lhs.
    driver.get(URL + "#/run/" + SCENARIO)
    lhs = run_from_page(20000, SEED, "Latin hypercube", sampling="lhs")
    assert "Latin hypercube sampling" in css("#run-facts").text, css("#run-facts").text
    shipped = fetch(f"/api/runs/{lhs}/scenario.json")
    cli = cli_summary(shipped, 20000, SEED, "lhs")
    mean = re.search(r"^  mean +(\S+)", cli, re.M).group(1)
    assert css("#mean-npv").text == mean, (css("#mean-npv").text, mean)
    print(f"  Latin hypercube: mean NPV on the page {mean} = the command line's --sampling lhs")
    shot("results-lhs")

    # What the engine told during a run (a rate typed as a whole percentage) heads its
    # Results page; reopened later, the page shows the report's warnings.
    percent = json.loads(fetch("/api/scenarios/" + SCENARIO))
    percent["service"]["efficiency"] = 15
    put = urllib.request.Request(URL.rstrip("/") + "/api/scenarios/percent.json", method="PUT",
                                 data=json.dumps(percent).encode())
    urllib.request.urlopen(put, timeout=60).close()
    driver.get(URL + "#/run/percent.json")
    run_from_page(2000, SEED, "percent")
    expected = "Warning: /service/efficiency is 15, that is 1500 %: did you mean 0.15?"
    told = css("#run-notices").text
    assert told.startswith(expected), told
    shot("results-warning")
    driver.refresh()
    css("#summary")
    assert css("#run-notices").text.startswith(expected), css("#run-notices").text
    assert "null" not in driver.find_element(By.TAG_NAME, "body").text

    # An address with no run's number says so, not the server's parser.
    driver.get(URL + "#/results/abc")
    error = css("p.error").text
    assert "\"abc\" is not a run's number" in error, error

    check_console()
    print("ok    the web app in Chromium: a workbook uploaded and downloaded, edit, invalid value shown at its field, run, "
          "figures equal to the command line's, history, compare, sweep, agreement terms, a Latin hypercube run")
except Exception:
    shot("failure")
    raise
finally:
    driver.quit()
    shutil.rmtree(DOWNLOADS, ignore_errors=True)
