"""A run from Python is the command line's run: report, summary, trial table, files."""

import json
import os
import re

import numpy as np
import pandas as pd
import pytest

import consortium_sim as cs
from conftest import SCENARIOS, cli, masked, read_json


@pytest.mark.parametrize("path", SCENARIOS)
def test_the_report_dict_is_the_command_lines_json(path, tmp_path):
    out = tmp_path / "report.json"
    cli("run", path, "--trials", 3000, "--seed", 11, "--quiet", "--out", out)
    r = cs.run(cs.Scenario.load(path), trials=3000, seed=11, progress=False)
    assert masked(r.report) == masked(read_json(out))
    assert r.report["trials"] == 3000 and r.report["seed"] == 11
    assert cs.__version__ == cs.ENGINE_VERSION == r.report["run"]["engine_version"]


@pytest.mark.parametrize("path", SCENARIOS)
def test_the_trials_frame_is_the_trials_csv_bit_for_bit(path, tmp_path):
    csv = tmp_path / "trials.csv"
    cli("run", path, "--trials", 3000, "--seed", 11, "--quiet", "--trials-csv", csv)
    from_csv = pd.read_csv(csv)
    frame = cs.run(path, trials=3000, seed=11, progress=False).trials
    assert list(frame.columns) == list(from_csv.columns)
    # Year columns are float64 with NaN for "never" even where every trial has a year
    # (pandas would then read int64): the frame's dtype does not depend on the draws.
    for year in ("payback_year", "collapse_year"):
        assert frame[year].dtype == np.float64
        from_csv[year] = from_csv[year].astype(np.float64)
    assert dict(frame.dtypes) == dict(from_csv.dtypes)
    pd.testing.assert_frame_equal(frame, from_csv, check_exact=True)
    # Bit for bit: the same float64 bytes, not just equal within a tolerance.
    for name in frame.columns:
        a, b = frame[name].to_numpy(), from_csv[name].to_numpy()
        assert a.tobytes() == b.tobytes(), name


def test_the_summary_is_what_the_command_line_prints():
    path = "scenarios/four_districts_back_office.json"
    printed = cli("run", path, "--trials", 3000, "--seed", 11, "--quiet").stdout
    summary = cs.run(path, trials=3000, seed=11, progress=False).summary()
    # The last line times the run ("... 0.00 s, 2,023,344 trials/s)").
    timing = re.compile(r"[0-9.]+ s, [0-9,]+ trials/s")
    assert timing.search(printed)
    assert timing.sub("TIMED", summary) == timing.sub("TIMED", printed)


def test_files_are_the_command_lines_files(tmp_path):
    path = "scenarios/departments_shared_service_centre.json"
    cli("run", path, "--trials", 2000, "--seed", 5, "--quiet", "--out", tmp_path / "cli.json",
        "--trials-csv", tmp_path / "cli.csv", "--html", tmp_path / "cli.html",
        "--cashflow-csv", tmp_path / "cli-cash.csv")
    r = cs.run(path, trials=2000, seed=5, progress=False)
    r.write_json(tmp_path / "py.json")
    r.write_trials_csv(tmp_path / "py.csv")
    r.write_html(tmp_path / "py.html")
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert masked(read_json(tmp_path / "py.json")) == masked(read_json(tmp_path / "cli.json"))
    page = (tmp_path / "py.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "data-chart=\"fan\"" in page
    assert json.loads(r.report_json()) == r.report
    # Any format the library registers, by name: the cash flow CSV is the command line's,
    # byte for byte; the workbook is a zip (its sheets are tested in the Rust suite).
    r.export("cashflow", tmp_path / "py-cash.csv")
    assert (tmp_path / "py-cash.csv").read_bytes() == (tmp_path / "cli-cash.csv").read_bytes()
    r.export("xlsx", tmp_path / "r.xlsx")
    assert (tmp_path / "r.xlsx").read_bytes()[:4] == b"PK\x03\x04"
    with pytest.raises(cs.RequestError, match="no format named 'ods'"):
        r.export("ods", tmp_path / "r.ods")
    assert not (tmp_path / "r.ods").exists()
    assert {"json", "html", "csv", "xlsx", "cashflow"} <= set(cs.formats())


def test_by_year_and_partners_are_the_reports_tables():
    r = cs.run("scenarios/four_districts_back_office.json", trials=2000, seed=3, progress=False)
    bands = r.report["consortium"]["by_year"]
    assert len(r.by_year) == r.report["horizon_years"] == len(bands)
    assert r.by_year.index.name == "year"
    last = r.by_year.iloc[-1].to_dict()
    assert {"year": r.by_year.index[-1], **last} == bands[-1]
    assert list(r.by_year.index) == list(range(len(bands)))
    # The year is only the index, so pandas can sort, group and reset by it.
    assert "year" not in r.by_year.columns
    assert list(r.by_year.reset_index()["year"]) == list(range(len(bands)))
    assert r.by_year.sort_values("year").equals(r.by_year)
    assert list(r.partners.index) == [p["name"] for p in r.report["partners"]]
    first = r.report["partners"][0]
    assert r.partners.iloc[0]["npv_mean"] == first["npv"]["mean"]
    assert r.partners.iloc[0]["prob_worse_off"] == first["prob_worse_off"]
    assert "by_year" not in r.partners.columns


def test_cash_by_year_is_the_cash_flow_csv(tmp_path):
    path = "scenarios/four_districts_back_office.json"
    cli("run", path, "--trials", 2000, "--seed", 3, "--quiet", "--cashflow-csv", tmp_path / "cash.csv")
    r = cs.run(path, trials=2000, seed=3, progress=False)
    expected = pd.read_csv(tmp_path / "cash.csv", engine="python").set_index(["partner", "year"])
    assert r.cash_by_year.shape == (4 * 10, 24)
    pd.testing.assert_frame_equal(r.cash_by_year, expected, check_exact=True)
    # The trial table's mean NPV is the report's.
    assert r.trials["npv"].mean() == pytest.approx(r.report["consortium"]["npv"]["mean"], rel=1e-12)


def test_threads_one_and_two_give_the_same_report_and_trials():
    path = "scenarios/mixed_jv_county_district_police.json"
    one = cs.run(path, trials=5000, seed=2, threads=1, progress=False)
    two = cs.run(path, trials=5000, seed=2, threads=2, progress=False)
    assert one.report["run"]["threads"] == 1 and two.report["run"]["threads"] == 2
    assert masked(one.report) == masked(two.report)
    pd.testing.assert_frame_equal(one.trials, two.trials, check_exact=True)


def test_a_precision_target_runs_as_the_command_lines(tmp_path):
    path = "scenarios/four_districts_back_office.json"
    out = tmp_path / "r.json"
    cli("run", path, "--target-se", 60000, "--seed", 4, "--quiet", "--out", out)
    r = cs.run(path, target_se=60000, seed=4, progress=False)
    assert masked(r.report) == masked(read_json(out))
    assert r.target_reached and r.report["run"]["target_reached"]
    assert r.report["run"]["trials_used"] == r.report["trials"] < r.report["run"]["max_trials"]


def test_latin_hypercube_runs_as_the_command_lines(tmp_path):
    path = "scenarios/four_districts_back_office.json"
    out = tmp_path / "r.json"
    cli("run", path, "--sampling", "lhs", "--trials", 70000, "--seed", 4, "--quiet", "--out", out)
    r = cs.run(path, trials=70000, seed=4, sampling="lhs", progress=False)
    assert masked(r.report) == masked(read_json(out))
    assert r.report["sampling"]["method"] == "lhs"
    assert r.report["sampling"]["standard_errors"] == "block_means"
    plain = cs.run(path, trials=20000, seed=4, progress=False)
    assert "sampling" not in plain.report
    # The sweep samples its points the same way as `sweep --sampling lhs`.
    sweep = cs.sweep(path, {"/service/efficiency": [0.1, 0.2]}, trials=2048, seed=4,
                     sampling="lhs", progress=False)
    csv = tmp_path / "s.csv"
    cli("sweep", path, "--param", "/service/efficiency=0.1,0.2", "--trials", 2048, "--seed", 4,
        "--sampling", "lhs", "--quiet", "--csv", csv)
    assert sweep.csv.encode() == csv.read_bytes()
    plain = cs.sweep(path, {"/service/efficiency": [0.1, 0.2]}, trials=2048, seed=4, progress=False)
    assert plain.csv != sweep.csv


def test_bad_settings_are_request_errors_naming_the_keyword():
    with pytest.raises(cs.RequestError, match='^`sampling`: unknown sampling method "sobol"; expected plain or lhs'):
        cs.run("scenarios/four_districts_back_office.json", sampling="sobol", progress=False)
    with pytest.raises(cs.RequestValueError, match="^`trials` must be a whole number of at least 1, not 0$"):
        cs.run("scenarios/four_districts_back_office.json", trials=0, progress=False)
    with pytest.raises(cs.RequestError, match="`threads` 5000 is more than"):
        cs.run("scenarios/four_districts_back_office.json", threads=5000, progress=False)
    with pytest.raises(cs.RequestError, match=r"need about 854 MiB .*, more than the 1.0 MiB allowed \(set by `max_memory`\)"):
        cs.run("scenarios/four_districts_back_office.json", trials=10_000_000, max_memory="1M",
               progress=False)


def test_the_notebook_view_shows_the_headline_and_the_fan_chart():
    r = cs.run("scenarios/four_districts_back_office.json", trials=2000, seed=3, progress=False)
    html = r._repr_html_()
    assert html.startswith('<div class="consortium-sim">')
    assert "Mean NPV" in html and "P(loss: NPV &lt; 0)" in html
    assert 'data-chart="fan"' in html and "<svg" in html
    # Its styles are scoped: nothing restyles the notebook around it.
    style = html.split("<style>")[1].split("</style>")[0]
    rules = [line.split("{")[0].strip() for line in style.splitlines() if "{" in line]
    assert rules and all(rule.startswith(".consortium-sim") for rule in rules), rules


def test_no_result_is_written_over_the_file_it_was_read_from(tmp_path, monkeypatch):
    """As the command line refuses an output that is an input: a run's exports, a
    trace's page and a merged run's exports leave the scenario and the parts alone,
    however the path is spelled and wherever the working folder has moved."""
    import shutil

    scenario = tmp_path / "s.json"
    shutil.copy("scenarios/four_districts_back_office.json", scenario)
    before = scenario.read_bytes()
    monkeypatch.chdir(tmp_path)
    s = cs.Scenario.load("s.json")
    r = cs.run(s.with_values({"/service/efficiency": 0.1}), trials=200, progress=False)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    for write in (r.write_json, lambda p: r.export("json", p)):
        with pytest.raises(cs.RequestError, match=r"^`path` \.\./s\.json would replace the scenario .*s\.json"):
            write("../s.json")
    t = cs.trace(s, trial=3, trials=200, progress=False)
    (tmp_path / "page.json").symlink_to(scenario)
    with pytest.raises(cs.RequestError, match="would replace the scenario"):
        t.write_html(tmp_path / "page.json")
    assert scenario.read_bytes() == before
    # A part given by its path is an input of the merge.
    part = tmp_path / "p0.bin"
    part.write_bytes(cs.run_shard(s, 0, 1, trials=200))
    merged = cs.merge([part])
    with pytest.raises(cs.RequestError, match="would replace the partial result"):
        merged.export("cashflow", part)
    assert part.read_bytes()[:4] == cs.run_shard(s, 0, 1, trials=200)[:4]
    # Elsewhere both write, the page atomically and with no file left beside it.
    r.write_json(tmp_path / "r.json")
    t.write_html(tmp_path / "t.html")
    assert "trial 3" in (tmp_path / "t.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "p0.bin", "page.json", "r.json", "s.json", "sub", "t.html"
    ]


@pytest.mark.parametrize(
    "write, name, says",
    [
        (lambda r, p: r.write_json(p), "r.xlsx", "JSON would be written under a name ending in .xlsx, the extension of an Excel workbook; give it a name ending in .json"),
        (lambda r, p: r.export("xlsx", p), "r.JSON", "an Excel workbook would be written under a name ending in .json, the extension of JSON; give it a name ending in .xlsx"),
        (lambda r, p: r.write_trials_csv(p), "r.htm", "CSV would be written under a name ending in .htm, the extension of an HTML page; give it a name ending in .csv"),
        (lambda r, p: r.write_html(p), "r.csv", "an HTML page would be written under a name ending in .csv"),
    ],
)
def test_an_export_named_as_another_format_is_refused(tmp_path, write, name, says):
    r = cs.run("scenarios/four_districts_back_office.json", trials=100, progress=False)
    with pytest.raises(cs.RequestError, match=f"^`path` .*{re.escape(name)}: {re.escape(says)}"):
        write(r, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    # A name no format claims, or none, is the user's choice; `-` is a file of that name
    # (as Python's open has it), not standard output.
    write(r, tmp_path / "r.txt")
    write(r, tmp_path / "r")
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        write(r, "-")
    finally:
        os.chdir(cwd)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["-", "r", "r.txt"]
    assert (tmp_path / "-").read_bytes() == (tmp_path / "r").read_bytes()
