"""The example a new analyst runs, and the issue's acceptance line: the trial table's
mean NPV is the one the command line's summary prints."""

import re
import subprocess
import sys

import pytest

import consortium_sim as cs
from conftest import ROOT, cli

FOUR = "scenarios/four_districts_back_office.json"


def test_the_trial_tables_mean_npv_is_the_summarys():
    r = cs.run(cs.Scenario.load(FOUR), progress=False)
    described = r.trials.describe()
    printed = cli("run", FOUR, "--quiet").stdout
    mean = re.search(r"^  mean +(-?£[0-9,]+)", printed, re.M).group(1)
    assert f"£{described.loc['mean', 'npv']:,.0f}" == mean
    assert described.loc["count", "npv"] == 100_000


def test_the_example_runs_top_to_bottom(tmp_path):
    pytest.importorskip("matplotlib")
    done = subprocess.run([sys.executable, "examples/analysis.py", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    for name in ("npv_distribution.png", "sweep_heat_map.png", "cost_sharing.png"):
        png = (tmp_path / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, name
    assert "Mean NPV by partner under each cost-sharing rule:" in done.stdout
    assert "equal shares" in done.stdout


def test_the_readmes_python_lines_run():
    text = (ROOT / "README.md").read_text()
    section = text.split("## From Python\n", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "import consortium_sim as cs" in code
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["r"].report["trials"] == 50_000
    assert namespace["r"].report["provenance"]["scenarios"][0]["overrides"] == [
        "/service/efficiency=0.12"]
