"""Arguments of the wrong type or value are refused before anything runs, with a message
naming the argument as the user typed it, what was wrong and what is taken."""

import re

import numpy as np
import pytest

import consortium_sim as cs
from conftest import cli, masked, read_json

FOUR = "scenarios/four_districts_back_office.json"
DEPTS = "scenarios/departments_shared_service_centre.json"
TRIALS = "`trials` must be a whole number of at least 1, not "
SEED = "`seed` must be a whole number from 0 to 18446744073709551615, not "


@pytest.mark.parametrize("given, error, message", [
    (dict(trials=-5), ValueError, TRIALS + "-5"),
    (dict(trials=0), ValueError, TRIALS + "0"),
    (dict(trials=2.5), TypeError, TRIALS + "2.5 (a float)"),
    (dict(trials=100.0), TypeError, TRIALS + "100.0 (a float; write 100)"),
    (dict(trials=1e5), TypeError, TRIALS + "100000.0 (a float; write 100_000)"),
    (dict(trials="100"), TypeError, TRIALS + "'100' (a str; write 100, without quotes)"),
    (dict(trials=True), TypeError, TRIALS + "True (a bool)"),
    (dict(trials=np.float64(3.0)), TypeError, TRIALS + "np.float64(3.0) (a float64; write 3)"),
    (dict(seed=-1), ValueError, SEED + "-1"),
    (dict(seed=2**64), ValueError, SEED + "18446744073709551616"),
    (dict(seed=1.5), TypeError, SEED + "1.5 (a float)"),
    (dict(seed="7"), TypeError, SEED + "'7' (a str; write 7, without quotes)"),
    (dict(seed=False), TypeError, SEED + "False (a bool)"),
    (dict(threads=0), ValueError, "`threads` must be a whole number of at least 1, not 0"),
    (dict(threads=2.0), TypeError, "`threads` must be a whole number of at least 1, not 2.0 (a float; write 2)"),
    (dict(max_trials=-1, target_se=1e5), ValueError, "`max_trials` must be a whole number of at least 1, not -1"),
    (dict(target_se="0.1"), TypeError, "`target_se` must be a number, not '0.1' (a str)"),
    (dict(max_memory=-1), ValueError, '`max_memory` must be a whole number of bytes or a size such as "4G", not -1'),
    (dict(max_memory=1.5), TypeError,
     '`max_memory` must be a whole number of bytes or a size such as "4G", not 1.5 (a float)'),
    (dict(sampling=1), TypeError, '`sampling` must be "plain" or "lhs", not 1 (an int)'),
    # Past 64 bits: said, not pyo3's bare OverflowError ("int too big to convert").
    (dict(trials=2**64), ValueError,
     "`trials` 18446744073709551616 is more than the engine can count: at most 18446744073709551615"),
    (dict(threads=2**64), ValueError,
     "`threads` 18446744073709551616 is more than the engine can count: at most 18446744073709551615"),
    (dict(max_trials=2**70, target_se=1e5), ValueError,
     "`max_trials` 1180591620717411303424 is more than the engine can count: at most 18446744073709551615"),
])
def test_a_runs_settings_are_refused_naming_the_keyword(given, error, message):
    if np.lib.NumpyVersion(np.__version__) < "2.0.0" and "np.float64" in message:
        message = message.replace("np.float64(3.0)", "3.0")
    with pytest.raises(error) as e:
        cs.run(FOUR, progress=False, **given)
    assert str(e.value) == message
    # Both a TypeError or ValueError, as Python users expect, and one of the package's.
    assert isinstance(e.value, cs.RequestError)
    assert isinstance(e.value, cs.RequestTypeError if error is TypeError else cs.RequestValueError)


CALLS = {
    "run": lambda **kw: cs.run(FOUR, progress=False, **kw),
    "run_shard": lambda **kw: cs.run_shard(FOUR, 0, 2, **kw),
    "sweep": lambda **kw: cs.sweep(FOUR, {"/service/efficiency": [0.1, 0.2]}, progress=False, **kw),
    "sensitivity": lambda **kw: cs.sensitivity(FOUR, progress=False, **kw),
    "compare": lambda **kw: cs.compare(FOUR, DEPTS, progress=False, **kw),
    "agreement": lambda **kw: cs.agreement(FOUR, {"/partners/*/exit_fee": [0, 1]}, progress=False, **kw),
    "trace": lambda **kw: cs.trace(FOUR, progress=False, **kw),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_function_that_runs_trials_refuses_them_alike(call):
    with pytest.raises(ValueError, match=f"^{re.escape(TRIALS)}-5$"):
        CALLS[call](trials=-5)
    with pytest.raises(TypeError, match=f"^{re.escape(TRIALS)}2.5 \\(a float\\)$"):
        CALLS[call](trials=2.5)
    with pytest.raises(ValueError, match=f"^{re.escape(SEED)}-1$"):
        CALLS[call](trials=100, seed=-1)


def test_the_other_whole_numbers_are_refused_naming_their_keyword():
    with pytest.raises(ValueError, match="^`shard` must be a whole number of at least 0, not -1$"):
        cs.run_shard(FOUR, -1, 2, trials=100)
    with pytest.raises(TypeError, match=r"^`shards` must be a whole number of at least 1, not 2.0 \(a float; write 2\)$"):
        cs.run_shard(FOUR, 0, 2.0, trials=100)
    with pytest.raises(ValueError, match="^`trial` must be a whole number of at least 0, not -1$"):
        cs.trace(FOUR, trial=-1, trials=100, progress=False)
    with pytest.raises(TypeError, match=r"^`worst_for` must be a partner's name \(a str\) or index \(a whole number\), not True \(a bool\)$"):
        cs.trace(FOUR, worst_for=True, trials=100, progress=False)
    # The form of `worst_for` is judged before the scenario is read: a file that does not
    # exist is not what the error is about.
    with pytest.raises(TypeError, match=r"^`worst_for` must be a partner's name .* not 1\.5 \(a float\)$"):
        cs.trace("missing.json", worst_for=1.5, trials=100, progress=False)


def test_numpy_integers_are_whole_numbers_and_the_largest_seed_is_exact(tmp_path):
    out = tmp_path / "r.json"
    cli("run", FOUR, "--trials", 2000, "--seed", 2**64 - 1, "--quiet", "--out", out)
    r = cs.run(FOUR, trials=np.int64(2000), seed=np.uint64(2**64 - 1), threads=np.int32(2), progress=False)
    assert r.report["seed"] == 2**64 - 1
    assert masked(r.report) == masked(read_json(out))
    t = cs.trace(FOUR, trial=np.int64(5), worst_for=None, trials=np.int16(300), seed=np.uint8(3),
                 progress=False)
    assert t.trial == 5


@pytest.mark.parametrize("call, error, message", [
    (lambda: cs.sweep(FOUR, {"/service/efficiency": 0.1}, trials=100, progress=False), TypeError,
     '`params` /service/efficiency: must be a list of values, such as [0.05, 0.1], or a range as the '
     'command line writes it, such as "0.05:0.25:9", not 0.1 (a float)'),
    (lambda: cs.sweep(FOUR, [("/service/efficiency", [0.1])], trials=100, progress=False), TypeError,
     '`params` must be a dict of {JSON pointer: values}, such as {"/service/efficiency": [0.05, 0.1]}, '
     "not [('/service/efficiency', [0.1])] (a list)"),
    (lambda: cs.agreement(FOUR, {"/partners/*/exit_fee": 0}, trials=100, progress=False), TypeError,
     '`terms` /partners/*/exit_fee: must be a list of values, such as [0.05, 0.1], or a range as the '
     'command line writes it, such as "0.05:0.25:9", not 0 (an int)'),
    (lambda: cs.sensitivity(FOUR, switch="/service/delay_years", trials=100, progress=False), TypeError,
     '`switch` must be a list of JSON pointers, such as ["/service/delay_years"], not '
     "'/service/delay_years' (a str)"),
    (lambda: cs.Scenario.load(FOUR).with_values([("/service/efficiency", 0.1)]), TypeError,
     "`values` must be a dict of {JSON pointer: value}, not [('/service/efficiency', 0.1)] (a list)"),
    (lambda: cs.Scenario.load(FOUR).with_values({"/service/efficiency": {0.1}}), TypeError,
     "`values` /service/efficiency: {0.1} (a set) is not a JSON value (a number, a string, a bool, "
     "None, a list or a dict of them)"),
    (lambda: cs.compare([FOUR, DEPTS], trials=100, progress=False), TypeError,
     "`scenario` must be a Scenario, a path or a dict, not ['scenarios/four_districts_back_office.json', "
     "'scenarios/... (a list); give each scenario as an argument of its own: compare(a, b, c)"),
    (lambda: cs.compare(FOUR, variants={"equal": "equal"}, trials=100, progress=False), TypeError,
     "`variants` 'equal' must be a dict of {JSON pointer: value}, such as "
     '{"/service/cost_sharing": "equal"}, not \'equal\' (a str)'),
    (lambda: cs.merge(b"consortium-sim partial"), TypeError,
     "`parts` must be a list of partial results (bytes from run_shard, or paths of files run --shard "
     "wrote), not b'consortium-sim partial' (a bytes)"),
    (lambda: cs.Scenario.load(5), TypeError, "`path` must be a path (a str or a pathlib.Path), not 5 (an int)"),
])
def test_one_value_where_a_list_or_dict_is_wanted_is_refused_naming_the_argument(call, error, message):
    with pytest.raises(error) as e:
        call()
    assert str(e.value) == message


def test_numpy_arrays_and_numbers_are_lists_and_numbers(tmp_path):
    listed = cs.sweep(FOUR, {"/service/efficiency": [0.05, 0.1]}, trials=500, seed=3, progress=False)
    array = cs.sweep(FOUR, {"/service/efficiency": np.array([0.05, 0.1])}, trials=500, seed=3, progress=False)
    assert array.csv == listed.csv
    s = cs.Scenario.load(FOUR).with_values({"/partners/0/exit_fee": np.int64(250000)})
    assert s.to_dict()["partners"][0]["exit_fee"] == 250000


NOT_JSON = ("is not a number a scenario can hold: JSON has no NaN or infinity, and no number past "
            "about 1.8e308; give a finite number")


def test_nan_and_infinity_are_refused_where_they_are_given():
    """JSON has no NaN: Python's json writes one as `NaN`, which the scenario's reader
    would call a string, or the whole scenario not JSON. Each is said at its place."""
    s = cs.Scenario.load(FOUR)
    with pytest.raises(ValueError, match=re.escape(f"`values` /service/efficiency: nan (a float) {NOT_JSON}")):
        s.with_values({"/service/efficiency": float("nan")})
    with pytest.raises(ValueError, match=re.escape(f"`values` /service/efficiency at /pert/2: inf (a float) {NOT_JSON}")):
        s.with_values({"/service/efficiency": {"pert": [0.1, 0.2, float("inf")]}})
    d = s.to_dict()
    d["partners"][1]["exit_fee"] = np.float64("-inf")
    shown = repr(np.float64("-inf"))  # np.float64(-inf) from numpy 2, -inf before
    with pytest.raises(ValueError, match=re.escape(f"`d` at /partners/1/exit_fee: {shown} (a float64) {NOT_JSON}")):
        cs.Scenario.from_dict(d)
    with pytest.raises(ValueError, match=re.escape(f"`params` /service/efficiency: nan (a float) {NOT_JSON}")):
        cs.sweep(FOUR, {"/service/efficiency": [0.1, float("nan")]}, trials=100, progress=False)
    # An int past the largest double is said so too, where a bare OverflowError was.
    huge = 10**400
    shown = f"{str(huge)[:57]}... (an int)"
    with pytest.raises(ValueError, match=re.escape(f"`values` /service/delay_years: {shown} {NOT_JSON}")):
        s.with_values({"/service/delay_years": huge})
    with pytest.raises(ValueError, match=re.escape(f"`d` at /trials: {shown} {NOT_JSON}")):
        cs.Scenario.from_dict({**s.to_dict(), "trials": huge})
    negative = f"-{str(huge)[:56]}... (an int)"
    with pytest.raises(ValueError, match=re.escape(f"`variants` 'v' /service/delay_years: {negative} {NOT_JSON}")):
        cs.compare(s, variants={"v": {"/service/delay_years": -huge}}, trials=10, progress=False)
    with pytest.raises(ValueError, match=re.escape(f"`target_se` {shown} is past the largest number there is here (about 1.8e308)")):
        cs.run(s, target_se=huge, progress=False)
    from fractions import Fraction
    with pytest.raises(ValueError, match="^`target_prob_ci` Fraction.* is past the largest number"):
        cs.run(s, target_prob_ci=Fraction(huge), progress=False)
    # numpy arrays of any shape are lists and numbers, searched alike.
    with pytest.raises(ValueError, match=re.escape("`values` /service/efficiency at /1/0: nan (a float)")):
        s.with_values({"/service/efficiency": np.array([[0.1], [np.nan]])})
    assert s.with_values({"/service/efficiency": np.array(0.12)}).to_dict()["service"]["efficiency"] == 0.12
    # A list that holds itself is no JSON value, said as such.
    loop: list = []
    loop.append(loop)
    with pytest.raises(TypeError, match="is not a JSON value"):
        s.with_values({"/service/efficiency": loop})
    # Finite numbers, numpy's among them, pass.
    d["partners"][1]["exit_fee"] = np.float64(250000.0)
    assert cs.Scenario.from_dict(d).to_dict()["partners"][1]["exit_fee"] == 250000.0


def test_an_empty_path_is_refused_naming_it():
    r = cs.run(FOUR, trials=100, progress=False)
    with pytest.raises(ValueError, match="^`path` is empty: name a file$"):
        r.write_json("")
    with pytest.raises(ValueError, match="^`path` is empty: name a file$"):
        cs.Scenario.load("")
