"""Sweeps, sensitivity studies, comparisons and traces: the command line's, as tables."""

import pandas as pd
import pytest

import consortium_sim as cs
from conftest import cli, masked, read_json

FOUR = "scenarios/four_districts_back_office.json"
DEPTS = "scenarios/departments_shared_service_centre.json"


def test_a_grid_sweep_is_the_command_lines_csv_and_json(tmp_path):
    csv, out = tmp_path / "s.csv", tmp_path / "s.json"
    cli("sweep", FOUR, "--trials", 1500, "--seed", 3, "--quiet", "--csv", csv, "--out", out,
        "--param", "/service/efficiency=0.05:0.25:5", "--param", "/partners/0/exit_fee=0,500000")
    s = cs.sweep(FOUR, {"/service/efficiency": "0.05:0.25:5", "/partners/0/exit_fee": [0, 500000]},
                 trials=1500, seed=3, progress=False)
    assert s.csv.encode() == csv.read_bytes()
    pd.testing.assert_frame_equal(s.table, pd.read_csv(csv), check_exact=True)
    assert len(s.table) == 10 and s.table.columns[:2].tolist() == ["/service/efficiency", "/partners/0/exit_fee"]
    assert masked(s.result) == masked(read_json(out))


def test_a_sweep_of_listed_values_is_the_command_lines(tmp_path):
    csv = tmp_path / "s.csv"
    cli("sweep", FOUR, "--trials", 1000, "--seed", 3, "--quiet", "--csv", csv,
        "--param", "/service/efficiency=0.05,0.1,0.15")
    s = cs.sweep(FOUR, {"/service/efficiency": [0.05, 0.1, 0.15]}, trials=1000, seed=3, progress=False)
    pd.testing.assert_frame_equal(s.table, pd.read_csv(csv), check_exact=True)
    with pytest.raises(cs.RequestError, match="^`params` /seed"):
        cs.sweep(FOUR, {"/seed": [1, 2]}, trials=100, progress=False)
    with pytest.raises(cs.RequestError, match="^a sweep needs a parameter: `params` POINTER="):
        cs.sweep(FOUR, {}, trials=100, progress=False)


def test_sensitivity_is_the_command_lines(tmp_path):
    out = tmp_path / "s.json"
    cli("sensitivity", DEPTS, "--trials", 1000, "--seed", 2, "--quiet", "--out", out,
        "--switch", "/service/delay_years")
    s = cs.sensitivity(DEPTS, switch=["/service/delay_years"], trials=1000, seed=2, progress=False)
    expected = read_json(out)
    assert masked(s.result) == masked(expected)
    pd.testing.assert_frame_equal(s.tornado, pd.json_normalize(expected["tornado"], sep="_"))
    assert s.switching_values["input"].tolist() == [v["input"] for v in expected["switching_values"]]
    assert s.rank_correlation["spearman"].tolist() == [v["spearman"] for v in expected["rank_correlation"]]


def test_comparisons_of_variants_and_of_files_are_the_command_lines(tmp_path):
    out = tmp_path / "c.json"
    cli("compare", FOUR, "--trials", 1000, "--seed", 2, "--quiet", "--out", out,
        "--variant", 'equal:/service/cost_sharing="equal"')
    c = cs.compare(FOUR, variants={"equal": {"/service/cost_sharing": "equal"}}, trials=1000, seed=2,
                   progress=False)
    assert masked(c.result) == masked(read_json(out))
    assert c.table.index.tolist() == ["base", "equal"]
    assert c.table.loc["equal", "npv_mean"] == read_json(out)["scenarios"][1]["npv"]["mean"]
    assert len(c.partners) == 2 * len(read_json(FOUR)["partners"])
    cli("compare", FOUR, DEPTS, "--trials", 1000, "--seed", 2, "--quiet", "--out", out)
    files = cs.compare(FOUR, DEPTS, trials=1000, seed=2, progress=False)
    assert masked(files.result) == masked(read_json(out))


def test_a_comparison_needs_two_scenarios_or_variants_as_on_the_command_line():
    done = cli("compare", FOUR, "--trials", 100, "--quiet", check=False)
    assert done.returncode == 2
    assert done.stderr == (
        "error: compare needs two or more scenario files, or one file and --variant NAME:POINTER=VALUE\n"
    )
    needs = (
        "compare needs two or more scenarios, or one scenario and `variants`: compare(a, b), "
        'or compare(s, variants={"name": {pointer: value}})'
    )
    for variants in (None, {}):
        with pytest.raises(cs.RequestValueError) as e:
            cs.compare(FOUR, variants=variants, trials=100, progress=False)
        assert str(e.value) == needs
        assert isinstance(e.value, ValueError)
    # Variants go with one scenario, as `--variant` with one file.
    assert cli("compare", FOUR, DEPTS, "--variant", "e:/service/efficiency=0.1", check=False).returncode == 2
    with pytest.raises(cs.RequestValueError) as e:
        cs.compare(FOUR, DEPTS, variants={"e": {"/service/efficiency": 0.1}}, trials=100, progress=False)
    assert str(e.value) == (
        "`variants` makes variants of one scenario; give either several scenarios or one scenario "
        "with `variants`"
    )


@pytest.mark.parametrize("how,flags", [
    (dict(trial=17), ["--trial", 17]),
    (dict(), ["--worst"]),
    (dict(percentile=50), ["--median"]),
    (dict(worst_for="Otterby District Council"), ["--worst-for", "Otterby District Council"]),
])
def test_a_trace_tells_the_command_lines_story(how, flags, tmp_path):
    printed = cli("trace", FOUR, "--trials", 3000, "--seed", 11, "--quiet", *flags).stdout
    t = cs.trace(FOUR, trials=3000, seed=11, progress=False, **how)
    assert t.story == printed


@pytest.mark.parametrize("how, message", [
    ({"percentile": 101}, "^`percentile` 101: expected a percentile from 0 to 100$"),
    ({"percentile": -5}, "^`percentile` -5: expected a percentile"),
    ({"percentile": float("nan")}, "^`percentile` nan: expected a percentile"),
    ({"percentile": "50"}, "^`percentile` '50': expected a percentile"),
    ({"trial": 1, "percentile": 50}, "^`trial` names the trial to replay: give it, or `percentile`"),
    ({"trial": 5, "worst_for": 0}, "^`trial` names the trial to replay"),
    # An index past the last partner is said as one, as `trace --worst-for 7` says it.
    ({"worst_for": 7}, r"^`worst_for` 7: there is no partner 7: partners are numbered from 0 to 3 \(or named: Brackenfield"),
    ({"worst_for": -1}, r"^`worst_for` -1: there is no partner -1: partners are numbered from 0 to 3"),
    ({"worst_for": "Nobody"}, r"^`worst_for` Nobody: there is no partner of that name \(partners: Brackenfield"),
])
def test_a_trace_refuses_what_the_command_line_refuses(how, message):
    # As `trace --percentile 101` and `--trial` with `--percentile` are refused.
    with pytest.raises(cs.RequestError, match=message):
        cs.trace(FOUR, trials=1000, progress=False, **how)


def test_a_traces_table_is_its_trial_year_by_year(tmp_path):
    csv = tmp_path / "t.csv"
    cli("run", DEPTS, "--trials", 3000, "--seed", 11, "--quiet", "--trials-csv", csv)
    row = pd.read_csv(csv).iloc[41]
    t = cs.trace(DEPTS, trial=41, trials=3000, seed=11, progress=False)
    years = t.table.groupby("year").first()
    assert len(years) == read_json(DEPTS)["horizon_years"]
    # The last year's cumulative discounted saving is the trial's NPV in the trials CSV.
    assert years["cumulative"].iloc[-1] == pytest.approx(row["npv"], rel=1e-12, abs=1e-6)
    page = tmp_path / "t.html"
    t.write_html(page)
    assert "trial 41" in page.read_text()
    with pytest.raises(cs.RequestError, match="^`trial` 3000 is not a trial of this run"):
        cs.trace(DEPTS, trial=3000, trials=3000, progress=False)


def test_an_agreement_is_the_command_lines_csv_and_json(tmp_path):
    csv, out = tmp_path / "a.csv", tmp_path / "a.json"
    terms = ["--term", "/partners/*/lock_in_years=0,4", "--term", "/partners/*/exit_fee=0,600000"]
    cli("agreement", FOUR, "--trials", 1500, "--seed", 4, "--quiet", "--csv", csv, "--out", out,
        "--max-worse-off", 0.3, *terms)
    a = cs.agreement(FOUR, {"/partners/*/lock_in_years": [0, 4], "/partners/*/exit_fee": [0, 600000]},
                     max_worse_off=0.3, trials=1500, seed=4, progress=False)
    assert a.csv.encode() == csv.read_bytes()
    pd.testing.assert_frame_equal(a.table, pd.read_csv(csv), check_exact=True)
    assert masked(a.result) == masked(read_json(out))
    assert len(a.table) == 4 and list(a.table["rank"]) == [1, 2, 3, 4]
    assert a.frontier == read_json(out)["frontier"] and a.meeting_limits == read_json(out)["meeting_limits"]
    # No set meeting the limits is an answer (the command line's exit code 3), not an error.
    none = cs.agreement(FOUR, {"/partners/*/exit_fee": [0, 600000]}, max_worse_off=0.01, trials=500,
                        progress=False)
    assert none.meeting_limits == 0 and len(none.table) == 2
    with pytest.raises(cs.RequestError, match=r"^an agreement needs at least one term in `terms`, each POINTER="):
        cs.agreement(FOUR, {}, trials=100, progress=False)
    with pytest.raises(cs.RequestError, match="efficiency is not a term of the partnership agreement"):
        cs.agreement(FOUR, {"/service/efficiency": [0.1, 0.2]}, trials=100, progress=False)
