"""Shards run anywhere and merge into the single run's report, byte for byte."""

import multiprocessing

import pytest

import consortium_sim as cs
from conftest import cli, masked, read_json

PATH = "scenarios/departments_shared_service_centre.json"
ARGS = dict(trials=6000, seed=21)


def one_shard(k):
    return cs.run_shard(PATH, k, 3, **ARGS)


def momentary_lines_masked(text):
    """The report's JSON text with the lines that time it or date it masked, as the
    golden test masks them."""
    keys = ('"threads"', '"elapsed_seconds"', '"trials_per_second"', '"generated_at"')
    return "\n".join("MASKED" if line.strip().split(":")[0] in keys else line
                     for line in text.splitlines())


def test_shards_from_a_process_pool_merge_into_the_single_run_byte_for_byte():
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        parts = pool.map(one_shard, [0, 1, 2])
    assert all(isinstance(p, bytes) for p in parts)
    merged = cs.merge(list(reversed(parts)))
    single = cs.run(PATH, progress=False, **ARGS)
    assert momentary_lines_masked(merged.report_json()) == momentary_lines_masked(single.report_json())
    assert merged.trials.equals(single.trials)


def test_partial_files_of_the_command_line_merge_in_python(tmp_path):
    paths = []
    for k in (0, 1):
        p = tmp_path / f"part{k}.bin"
        cli("run", PATH, "--trials", 6000, "--seed", 21, "--quiet", "--shard", f"{k}/2", "--partial", p)
        paths.append(p)
    out = tmp_path / "merged.json"
    cli("merge", *paths, "--out", out)
    assert masked(cs.merge(paths).report) == masked(read_json(out))
    # A Python shard merges with the command line's.
    mixed = cs.merge([paths[0], cs.run_shard(PATH, 1, 2, **ARGS)])
    assert masked(mixed.report) == masked(read_json(out))


def test_an_incomplete_set_is_refused_as_the_command_line_refuses_it():
    with pytest.raises(cs.RequestError, match=r"trials 4000\.\.6000 are missing"):
        cs.merge([cs.run_shard(PATH, k, 3, **ARGS) for k in (0, 1)])
    with pytest.raises(cs.RequestError, match=r"shard 3 of 3 does not exist \(shards are numbered 0"):
        cs.run_shard(PATH, 3, 3, **ARGS)
