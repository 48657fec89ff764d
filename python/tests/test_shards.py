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
    with pytest.raises(cs.RequestValueError, match=r"^`shard` 3 of 3 does not exist \(shards are numbered 0 to 2\)$"):
        cs.run_shard(PATH, 3, 3, **ARGS)


def test_a_shard_that_does_not_exist_is_refused_before_the_scenario_is_read(tmp_path):
    # The file does not exist: the request's own mistake is found first, as the command
    # line finds it, and no warning of the scenario's comes before it.
    with pytest.raises(cs.RequestValueError, match=r"^`shard` 5 of 2 does not exist"):
        cs.run_shard(str(tmp_path / "missing.json"), 5, 2)


def test_merge_names_bytes_by_their_place_in_parts_and_files_as_given(tmp_path):
    other_seed = cs.run_shard(PATH, 1, 3, trials=6000, seed=22)
    parts = [cs.run_shard(PATH, k, 3, **ARGS) for k in (0, 1, 2)]
    with pytest.raises(cs.RequestError) as e:
        cs.merge([parts[0], other_seed, parts[2]])
    assert str(e.value) == "cannot merge: `parts[1]` (bytes) used seed 22, `parts[0]` (bytes) used seed 21"
    damaged = parts[2][:-3] + b"xyz"
    with pytest.raises(cs.RequestError) as e:
        cs.merge([parts[0], parts[1], damaged])
    assert str(e.value) == (
        "`parts[2]` (bytes) is damaged or incomplete: its checksum does not match its contents"
    )
    # A file is named as given; bytes beside it by their place; never the temporary folder
    # the bytes are written to for the library.
    file = tmp_path / "part0.bin"
    file.write_bytes(parts[0])
    with pytest.raises(cs.RequestError) as e:
        cs.merge([file, b"not a partial", parts[2]])
    assert str(e.value) == "`parts[1]` (bytes) is not a consortium-sim partial result"
    with pytest.raises(cs.RequestError) as e:
        cs.merge([file, other_seed])
    assert str(e.value) == f"cannot merge: `parts[1]` (bytes) used seed 22, {file} used seed 21"
    assert "consortium-sim-parts-" not in str(e.value)
    with pytest.raises(TypeError, match=r"^`parts\[1\]` must be bytes from run_shard or the path of a file "
                                        r"run --shard wrote, not 5 \(an int\)$"):
        cs.merge([file, 5])
    # `max_memory` takes a size, as everywhere else.
    assert cs.merge(parts, max_memory="4G").report["trials"] == 6000
