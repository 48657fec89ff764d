"""Scenarios from files, dicts and JSON; overrides as `--set`; errors as the CLI's."""

import json
import os
import pickle
import re
import shutil
import warnings
import zipfile

import pytest

import consortium_sim as cs
from conftest import cli, masked, read_json

FOUR = "scenarios/four_districts_back_office.json"


def test_load_from_dict_and_from_json_give_the_same_figures():
    d = read_json(FOUR)
    runs = [cs.run(s, trials=2000, seed=9, progress=False) for s in
            (cs.Scenario.load(FOUR), cs.Scenario.from_dict(d), cs.Scenario.from_json(json.dumps(d)))]
    figures = [r.report["consortium"] for r in runs]
    assert figures[0] == figures[1] == figures[2]
    assert cs.Scenario.from_dict(d).to_dict() == d
    assert cs.Scenario.load(FOUR).to_dict() == d


def test_with_values_is_set(tmp_path):
    values = {"/service/efficiency": 0.12, "/partners/Otterby District Council/exit_fee": 250000,
              "/service/cost_sharing": "equal"}
    s = cs.Scenario.load(FOUR).with_values(values)
    out = tmp_path / "r.json"
    cli("run", FOUR, "--trials", 2000, "--seed", 9, "--quiet", "--out", out,
        "--set", "/service/efficiency=0.12",
        "--set", "/partners/Otterby District Council/exit_fee=250000",
        "--set", '/service/cost_sharing="equal"')
    assert masked(cs.run(s, trials=2000, seed=9, progress=False).report) == masked(read_json(out))
    assert s.overrides == ["/service/efficiency=0.12",
                           "/partners/Otterby District Council/exit_fee=250000",
                           '/service/cost_sharing="equal"']
    edited = s.to_dict()
    assert edited["service"]["efficiency"] == 0.12
    assert edited["service"]["cost_sharing"] == "equal"
    # The original is unchanged.
    assert cs.Scenario.load(FOUR).to_dict()["service"]["efficiency"] != 0.12


def bad_scenario():
    d = read_json(FOUR)
    d["partners"][1]["exit_fee"] = "lots"
    d["discount_rate"] = "high"
    return d


def test_an_invalid_scenario_raises_with_the_command_lines_problems_and_text(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_scenario()))
    done = cli("validate", bad, check=False)
    assert done.returncode == 2
    with pytest.raises(cs.ScenarioError) as e:
        cs.Scenario.load(bad)
    assert done.stderr == f"error: {e.value}\n"
    listed = [line.strip()[2:] for line in done.stderr.splitlines()[1:]]
    assert [f"{path}: {message}" for path, message in e.value.problems] == listed
    paths = [path for path, _ in e.value.problems]
    assert paths == ["/discount_rate", "/partners/1/exit_fee"]
    # From a dict: the same problems, the scenario named as asked.
    with pytest.raises(cs.ScenarioError) as d:
        cs.Scenario.from_dict(bad_scenario(), name="my dict")
    assert d.value.problems == e.value.problems
    assert str(d.value).startswith(f"my dict has {len(paths)} problems:")
    assert isinstance(d.value, cs.Error)


def test_a_bad_override_raises_the_command_lines_message():
    done = cli("validate", FOUR, "--set", "/service/nonsense/x=1", check=False)
    with pytest.raises(cs.ScenarioError) as e:
        cs.Scenario.load(FOUR).with_values({"/service/nonsense/x": 1})
    assert done.stderr == f"error: {e.value}\n"
    assert e.value.problems[0][0] == "/service/nonsense/x=1"
    done = cli("validate", FOUR, "--set", '/service/efficiency="lots"', check=False)
    with pytest.raises(cs.ScenarioError) as e:
        cs.Scenario.load(FOUR).with_values({"/service/efficiency": "lots"})
    assert done.stderr == f"error: {e.value}\n"
    assert e.value.problems[0][0] == "/service/efficiency"


def test_json_that_is_not_json_and_a_missing_file_are_scenario_errors():
    with pytest.raises(cs.ScenarioError, match="^pasted is not valid JSON: "):
        cs.Scenario.from_json("{nope", name="pasted")
    # JSON text is read as a file's is: empty said so, a byte-order mark skipped, a key
    # given twice refused (Python's json would keep the last without a word).
    with pytest.raises(cs.ScenarioError, match="^pasted is not valid JSON: it is empty: "):
        cs.Scenario.from_json(" \n", name="pasted")
    with open(FOUR, encoding="utf-8") as f:
        text = f.read()
    marked = cs.Scenario.from_json("\ufeff" + text, name="marked")
    assert marked.to_dict() == cs.Scenario.load(FOUR).to_dict()
    twice = text.replace("{", '{"seed": 3, ', 1)
    with pytest.raises(cs.ScenarioError, match="is given more than once") as e:
        cs.Scenario.from_json(twice, name="twice")
    assert e.value.problems[0][0] == "/seed"
    done = cli("validate", "no/such.json", check=False)
    with pytest.raises(cs.ScenarioError) as e:
        cs.Scenario.load("no/such.json")
    assert done.stderr == f"error: {e.value}\n"
    assert e.value.problems == []


def test_validate_gives_the_command_lines_summary():
    printed = cli("validate", FOUR).stdout
    assert printed == "ok\n" + cs.Scenario.load(FOUR).validate() + "\n"


def test_a_rate_typed_as_a_percentage_warns_as_the_command_line_does():
    d = read_json(FOUR)
    d["service"]["efficiency"] = 15
    with pytest.warns(cs.ScenarioWarning) as told:
        s = cs.Scenario.from_dict(d)
    assert s.warnings and "/service/efficiency" in s.warnings[0]
    assert any("/service/efficiency" in str(w.message) for w in told)


def test_scenarios_pickle_for_worker_processes():
    s = cs.Scenario.load(FOUR).with_values({"/service/efficiency": 0.1})
    back = pickle.loads(pickle.dumps(s))
    assert back.to_dict() == s.to_dict() and back.overrides == s.overrides


def test_a_loaded_scenario_is_what_runs_whatever_becomes_of_its_file(tmp_path, monkeypatch):
    """`load` reads the file once: editing or deleting it, or changing folder, changes
    nothing, and a pickled copy runs elsewhere with the file's name and hash."""
    four = os.path.abspath(FOUR)
    path = tmp_path / "q.json"
    shutil.copy(four, path)
    monkeypatch.chdir(tmp_path)
    s = cs.Scenario.load("q.json")
    before = cs.run(s, trials=300, seed=1)
    edited = json.loads(path.read_text())
    edited["service"]["efficiency"] = 0.01
    path.write_text(json.dumps(edited))
    after = cs.run(s, trials=300, seed=1)
    assert after.report["consortium"] == before.report["consortium"]
    assert after.report["provenance"] == before.report["provenance"]
    path.unlink()
    monkeypatch.chdir("/")
    back = pickle.loads(pickle.dumps(s))
    shard = cs.run_shard(back, 0, 2, trials=300, seed=1)
    assert shard is not None
    assert cs.trace(back, trial=1, trials=100) is not None
    # The command line's run of the same file gives the same figures.
    shutil.copy(four, path)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cli.json"
    cli("run", path, "--trials", "300", "--seed", "1", "--out", out)
    assert read_json(out)["consortium"] == before.report["consortium"]
    assert read_json(out)["partners"] == before.report["partners"]
    # An unreadable file is refused at load, as the command line refuses it.
    with pytest.raises(cs.ScenarioError, match="nope.json"):
        cs.Scenario.load("nope.json")


def edited_workbook(tmp_path, edits):
    """The FOUR scenario as a workbook (`convert`), with cells of its sheets' XML edited:
    `edits` maps a part of the zip to the (old, new) texts to replace."""
    book = tmp_path / "four.xlsx"
    cli("convert", FOUR, book)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(book) as z, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as out:
        for item in z.infolist():
            data = z.read(item.filename).decode("utf-8")
            for old, new in edits.get(item.filename, []):
                assert re.search(old, data), (item.filename, old)
                data = re.sub(old, new, data)
            out.writestr(item, data)
    return bad


def test_a_workbooks_problems_give_their_sheet_and_cell(tmp_path):
    # Partners is the third sheet; its J column holds the exit fee, row 3 the second
    # partner; and the Correlations sheet is misnamed.
    bad = edited_workbook(tmp_path, {
        "xl/worksheets/sheet3.xml": [(r'(<c r="J3"[^>]*><v>)[^<]*(</v>)', r"\g<1>-5\g<2>")],
        "xl/workbook.xml": [('name="Correlations"', 'name="Correlation"')],
    })
    done = cli("validate", bad, check=False)
    with pytest.raises(cs.ScenarioError) as e:
        cs.Scenario.load(bad)
    assert done.stderr == f"error: {e.value}\n"
    sheet, fee = e.value.problems
    assert (fee.path, fee.sheet, fee.cell, fee.row, fee.place) == (
        "/partners/1/exit_fee", "Partners", "J3", 3, "Partners!J3")
    assert fee.message.startswith("-5 is out of range")
    assert (sheet.path, sheet.sheet, sheet.cell, sheet.row, sheet.place) == (
        "", "Correlation", None, None, "sheet Correlation")
    # Each is listed as the command line lists it, and is still a (path, message) pair.
    listed = [line.strip()[2:] for line in done.stderr.splitlines()[1:]]
    assert [str(p) for p in e.value.problems] == listed
    assert listed[1].startswith("Partners!J3 (/partners/1/exit_fee): -5 is out of range")
    path, message = fee
    assert (path, message) == ("/partners/1/exit_fee", fee.message) == tuple(fee)
    # Problems travel with the error to another process.
    back = pickle.loads(pickle.dumps(e.value))
    assert [(p.sheet, p.cell) for p in back.problems] == [("Correlation", None), ("Partners", "J3")]
    # A value changed since it was read is not blamed on its cell.
    with pytest.raises(cs.ScenarioError) as e:
        cs.Scenario.load(tmp_path / "four.xlsx").with_values({"/partners/1/exit_fee": -5})
    (changed,) = e.value.problems
    assert (changed.path, changed.sheet, changed.cell) == ("/partners/1/exit_fee", None, None)


def test_a_formula_saved_as_0_warns_at_its_cell_as_the_command_line_does(tmp_path):
    # As LibreOffice saves a workbook a program wrote without calculating: the formula
    # and its placeholder 0, with no request to calculate on opening.
    book = edited_workbook(tmp_path, {
        "xl/worksheets/sheet3.xml": [(r'(<c r="J3"[^>]*>)<v>[^<]*</v>', r"\g<1><f>J2*0</f><v>0</v>")],
        "xl/workbook.xml": [(' fullCalcOnLoad="1"', "")],
    })
    printed = cli("validate", book).stderr
    with pytest.warns(cs.ScenarioWarning) as told:
        s = cs.Scenario.load(book)
    said = [str(w.message) for w in told]
    # The command line's warnings, each led by the file's name (as its compare leads
    # them): in Python, files loaded in a loop warn from one line of code.
    def led(name, stderr):
        return [line.replace("warning: ", f"warning: {name}: ", 1)
                for line in stderr.splitlines() if line.startswith("warning: ")]
    assert said == led(book, printed)
    assert said[0].startswith(
        f"warning: {book}: Partners!J3 (/partners/1/exit_fee) is 0, the saved value of its formula =J2*0: ")
    assert s.to_dict()["partners"][1]["exit_fee"] == 0
    # Told once: not again by a run of the file or of the Scenario, nor by a copy of it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cs.run(book, trials=200, progress=False)
        cs.run(s, trials=200, progress=False)
        s.with_values({"/seed": 3})
        # A comparison says a later file's notices after its name, but loading each
        # file told them: once for the file run before, once for its copy.
        other = tmp_path / "other.xlsx"
        shutil.copy(book, other)
        cs.compare(book, other, trials=200, progress=False)
        # A path given twice is read once, as the command line reads it.
        cs.compare(book, book, trials=200, progress=False)
    told = [str(w.message) for w in caught if issubclass(w.category, cs.ScenarioWarning)]
    assert told == said + said + led(other, printed) + said, told
    # Under Python's default filter (once per text and line), both files are told.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for f in (book, other):
            cs.Scenario.load(f)
    assert [str(w.message) for w in caught] == said + led(other, printed)
    # A request refused for itself is refused before the scenario is loaded (and warns).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(cs.RequestValueError, match="compare needs two or more scenarios"):
            cs.compare(book, trials=200, progress=False)
    # A load that fails tells what it found before the error, as the command line does.
    trials = edited_workbook(tmp_path, {
        "xl/worksheets/sheet1.xml": [(r'(<c r="C8"[^>]*>)<v>[^<]*</v>', r"\g<1><f>1*0</f><v>0</v>")],
        "xl/workbook.xml": [(' fullCalcOnLoad="1"', "")],
    })
    printed = cli("validate", trials, check=False).stderr
    with pytest.warns(cs.ScenarioWarning) as told, pytest.raises(cs.ScenarioError) as e:
        cs.Scenario.load(trials)
    said = [str(w.message) for w in told]
    assert said == led(trials, printed)
    assert said[0].startswith(f"warning: {trials}: Scenario!C8 (/trials) is 0, the saved value of its formula =1*0: ")
    assert "Scenario!C8 (/trials): 0 is out of range" in str(e.value)
    # Each warning points at the caller's line, not into the package: Python's default
    # filter tells a warning once per place, and would hide a second file's.
    assert {w.filename for w in told} == {__file__}
    # With warnings made errors, the scenario's error is still raised, caused by the
    # first warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(cs.ScenarioError) as e:
            cs.Scenario.load(trials)
    assert isinstance(e.value.__cause__, cs.ScenarioWarning)
    assert str(e.value.__cause__) == said[0]
    # Refused for a mistake only a workbook makes (text in a number cell) as well: the
    # warnings are still told.
    text = edited_workbook(tmp_path, {
        "xl/worksheets/sheet1.xml": [(r'(<c r="C8"[^>]*>)<v>[^<]*</v>', r"\g<1><f>1*0</f><v>0</v>")],
        "xl/worksheets/sheet3.xml": [(r'<c r="I4"( s="\d+")><v>[^<]*</v>', r'<c r="I4"\1 t="inlineStr"><is><t>zz</t></is>')],
        "xl/workbook.xml": [(' fullCalcOnLoad="1"', "")],
    })
    with pytest.warns(cs.ScenarioWarning) as told, pytest.raises(cs.ScenarioError) as e:
        cs.Scenario.load(text)
    assert [str(w.message) for w in told] == said
    assert 'Partners!I4 (/partners/2/lock_in_years): expected a number, found the text "zz"' in str(e.value)


def test_a_json_scenarios_problems_have_no_sheet_or_cell():
    with pytest.raises(cs.ScenarioError) as e:
        cs.Scenario.from_dict(bad_scenario())
    assert [(p.sheet, p.cell, p.row, p.place) for p in e.value.problems] == [(None, None, None, None)] * 2
    assert all(isinstance(p, cs.Problem) for p in e.value.problems)


@pytest.mark.parametrize("place, where", [
    ("Partners!J3", ("Partners", "J3", 3)),
    ("Correlations!AB12", ("Correlations", "AB12", 12)),
    ("Partners row 3", ("Partners", None, 3)),
    ("sheet Partners", ("Partners", None, None)),
    ("sheet My notes row 2!A1", ("My notes row 2!A1", None, None)),
    (None, (None, None, None)),
])
def test_every_form_of_a_workbook_place_is_read(place, where):
    p = cs.Problem("/partners/1", "a problem", place)
    assert (p.sheet, p.cell, p.row) == where


def test_calling_scenario_directly_says_which_constructor_to_use():
    # Scenario("my.json") is a user's first guess; it must not fail on a private tuple.
    with pytest.raises(cs.RequestTypeError, match=r"^a Scenario is made by Scenario\.load\(path\), not by calling Scenario\(\) with 'x\.json' \(a str\)$"):
        cs.Scenario("x.json")
    with pytest.raises(cs.RequestTypeError, match=r"made by Scenario\.from_dict\(d\), not by calling Scenario\(\) with \{\} \(a dict\)$"):
        cs.Scenario({})
    with pytest.raises(TypeError, match=r"Scenario\.from_json\(text\), not by calling Scenario\(\) with 3 \(an int\)$"):
        cs.Scenario(3)
