"""Shared helpers: the repository's root, the release binary `cargo test --release`
built, and the command line run from the root (so that scenario paths, and with them
the reports' provenance, read the same from both front ends)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target" / "release" / "consortium-sim"
SCENARIOS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "scenarios").glob("*.json"))


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def cli(*args, check=True):
    """Runs the command line; returns the finished process (text)."""
    if not BIN.exists():
        raise RuntimeError(f"{BIN} is missing: run `cargo test --release` (or build --release) first")
    done = subprocess.run([str(BIN), *map(str, args)], cwd=ROOT, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"consortium-sim {' '.join(map(str, args))} failed:\n{done.stderr}")
    return done


# What depends on the machine and the moment: the golden test masks the same.
MOMENTARY = {("run", "threads"), ("run", "elapsed_seconds"), ("run", "trials_per_second"),
             ("provenance", "generated_at")}


def masked(report):
    """A report (or an analysis) without what depends on the machine and the moment."""
    report = json.loads(json.dumps(report))
    for block, key in MOMENTARY:
        if isinstance(report.get(block), dict):
            report[block].pop(key, None)
    return report


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
