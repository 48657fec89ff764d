"""What calling the engine from Python costs over the command line (issue #13's budget:
at most 5 % for a 100,000-trial run).

    python benches/python_overhead.py [SCENARIO] [--trials N] [--repeat R]

Run from the repository's root with the package installed (`pip install ./python`) and
the release binary built. Each repetition times, in turn, the command line's own
`run.elapsed_seconds` (simulation and report, from its JSON report) and the wall time of
`consortium_sim.run(...)` seen from Python (everything: reading and validating the
scenario, starting threads, simulating, the report, and handing it to Python), both on
the machine's cores. It prints the medians and their ratio; `.trials` for the same run
is timed too. Alternating the two keeps a busy neighbour from favouring either side.
"""

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import consortium_sim as cs

parser = argparse.ArgumentParser()
parser.add_argument("scenario", nargs="?", default="scenarios/four_districts_back_office.json")
parser.add_argument("--trials", type=int, default=100_000)
parser.add_argument("--repeat", type=int, default=15)
args = parser.parse_args()

cli_seconds, py_seconds, frame_seconds = [], [], []
with tempfile.TemporaryDirectory() as folder:
    out = Path(folder) / "report.json"
    s = cs.Scenario.load(args.scenario)
    for _ in range(args.repeat):
        subprocess.run(["target/release/consortium-sim", "run", args.scenario, "--trials",
                        str(args.trials), "--quiet", "--out", str(out)], check=True,
                       capture_output=True)
        cli_seconds.append(json.loads(out.read_text())["run"]["elapsed_seconds"])
        start = time.perf_counter()
        r = cs.run(s, trials=args.trials, progress=False)
        py_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        r.trials
        frame_seconds.append(time.perf_counter() - start)

cli, py = statistics.median(cli_seconds), statistics.median(py_seconds)
print(f"{args.scenario}, {args.trials:,} trials, {args.repeat} repetitions (medians)")
print(f"  command line, run.elapsed_seconds  {cli:.4f} s")
print(f"  Python, cs.run(...) wall time       {py:.4f} s  ({100 * (py / cli - 1):+.1f} %)")
print(f"  Python, .trials DataFrame           {statistics.median(frame_seconds):.4f} s")
