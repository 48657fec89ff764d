"""Ctrl-C stops a long run promptly with KeyboardInterrupt, leaving nothing behind; a
progress bar shows only when asked for and tqdm is there."""

import _thread
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import consortium_sim as cs
from conftest import ROOT

# Far longer than any test waits: about a minute on a fast machine.
LONG = dict(trials=8_000_000, seed=1)
WIDE = "tests/browser/wide.json"


def test_an_interrupt_from_another_thread_raises_keyboard_interrupt_in_the_run():
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        cs.run(WIDE, progress=False, **LONG)
    waited = time.monotonic() - start
    timer.join()
    # The run was cut short: at its speed it needs a minute. (Not a timing test of the
    # latency, which a loaded machine can stretch; the subprocess test prints it.)
    assert waited < 20, waited
    # The engine is usable again at once.
    assert cs.run(WIDE, trials=500, seed=1, progress=False).report["trials"] == 500


SCRIPT = """
import sys, time
import consortium_sim as cs
r = cs.run(sys.argv[1], trials=3000, seed=1, progress=False)
print("ready", flush=True)
r = cs.run(sys.argv[1], trials=8_000_000, seed=1, progress=False)
r.write_json(sys.argv[2])
"""


def test_sigint_stops_a_script_with_keyboard_interrupt_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    child = subprocess.Popen([sys.executable, "-c", SCRIPT, WIDE, str(out / "report.json")],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\n"
    time.sleep(0.5)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    latency = time.monotonic() - sent
    print(f"exited {latency:.3f} s after SIGINT")
    # Python ends a script that a KeyboardInterrupt stops by SIGINT itself (3.8+).
    assert child.returncode == -signal.SIGINT, stderr
    assert stderr.rstrip().splitlines()[-1] == "KeyboardInterrupt", stderr
    assert os.listdir(out) == []
    assert latency < 20, latency


def test_an_interrupted_export_leaves_no_file(tmp_path):
    r = cs.run(WIDE, trials=400_000, seed=1, progress=False)
    timer = threading.Timer(0.05, _thread.interrupt_main)
    timer.start()
    path = tmp_path / "trials.csv"
    try:
        r.write_trials_csv(path)
        interrupted = False
    except KeyboardInterrupt:
        interrupted = True
    timer.join()
    # Either it finished first (a fast machine) and the file is whole, or it was
    # interrupted and nothing is there, not even a temporary file.
    if interrupted:
        assert os.listdir(tmp_path) == []
    else:
        assert path.read_text().count("\n") == 400_001
        time.sleep(0.1)  # let a late interrupt land here, outside the export


def test_progress_shows_a_bar_only_when_asked(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(cs._Progress, "DELAY", 0.0)
    cs.run(WIDE, trials=300_000, seed=1, progress=True)
    assert "trials" in capsys.readouterr().err
    cs.run(WIDE, trials=300_000, seed=1, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_is_off_without_tqdm(monkeypatch, capsys):
    monkeypatch.setattr(cs._Progress, "DELAY", 0.0)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert cs.run(WIDE, trials=300_000, seed=1, progress=True).report["trials"] == 300_000
    assert capsys.readouterr().err == ""
