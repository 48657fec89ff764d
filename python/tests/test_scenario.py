"""Scenarios from files, dicts and JSON; overrides as `--set`; errors as the CLI's."""

import json
import pickle

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
