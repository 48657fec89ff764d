"""consortium-sim in Python: the engine itself, with results as pandas tables.

Every figure comes from the Rust library's run API, the same code the command line
calls, so a run here gives the command line's report to the last bit for the same
scenario, seed and trials. This module only passes requests in and shapes what comes
back: reports as dicts, trials and tables as pandas DataFrames, files written by the
library's exporters.

    import consortium_sim as cs
    s = cs.Scenario.load("scenarios/four_districts_back_office.json")
    r = cs.run(s, trials=20_000, seed=7)
    print(r.summary())
    r.trials.npv.describe()
"""

from __future__ import annotations

import io
import math
import json
import numbers
import operator
import os
import sys
import time
import warnings
from functools import cached_property
from typing import (
    TYPE_CHECKING, Any, Callable, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple,
    Union,
)

from . import _native
from ._native import Error, RequestError, ScenarioError
from ._problem import Problem

if TYPE_CHECKING:
    import pandas

__all__ = [
    "Scenario",
    "Run",
    "Sweep",
    "Sensitivity",
    "Comparison",
    "Agreement",
    "Trace",
    "run",
    "run_shard",
    "merge",
    "sweep",
    "sensitivity",
    "compare",
    "agreement",
    "trace",
    "formats",
    "Error",
    "ScenarioError",
    "Problem",
    "RequestError",
    "RequestTypeError",
    "RequestValueError",
    "ScenarioWarning",
    "ENGINE_VERSION",
    "__version__",
]

#: The version of the engine (the Rust library) this package was built with.
ENGINE_VERSION: str = _native.ENGINE_VERSION
#: The package's version: the engine's, since the package is the engine.
__version__: str = ENGINE_VERSION

PathLike = Union[str, "os.PathLike[str]"]


class ScenarioWarning(UserWarning):
    """A run goes ahead, but differs from what was asked or rests on a doubtful value
    (a repaired correlation matrix, a rate typed as a whole percentage, a default the
    engine chose): the command line's `warning:` and `note:` lines."""


class RequestTypeError(RequestError, TypeError):
    """An argument of the wrong type: a float, a string or a bool where a whole number is
    wanted, one value where a list or a dict is. A `TypeError` as well as a
    `RequestError`; the message names the argument and says what it takes."""


class RequestValueError(RequestError, ValueError):
    """An argument of the right type whose value cannot be (`trials=0`, a negative seed),
    or arguments that do not make a request together (`compare` with one scenario). A
    `ValueError` as well as a `RequestError`; the message names the argument."""


#: The largest seed: seeds are unsigned 64-bit numbers, as on the command line.
_SEED_MAX = 2**64 - 1


def _kind(value: Any) -> str:
    """The type of `value` with its article: "a float", "an int"."""
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _shown(value: Any) -> str:
    """`value` as a message shows it, with its type: "2.5 (a float)"."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({_kind(value)})"


def _is_bool(value: Any) -> bool:
    """True and False, and numpy's booleans: not numbers here, though Python counts a
    bool as an int (True is not `trials=1`)."""
    return isinstance(value, bool) or (
        type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")
    )


def _whole(name: str, value: Any, least: int = 0, most: Optional[int] = None) -> Optional[int]:
    """`value` as an int (None stays None: the default), or the error naming `name`. A
    whole number is an int or a numpy integer; not a bool, and not a float even if whole
    (`100.0`, `1e5`), as the command line takes no `--trials 100.0`."""
    if value is None:
        return None
    wanted = (
        f"a whole number of at least {least}" if most is None
        else f"a whole number from {least} to {most}"
    )
    if not _is_bool(value):
        try:
            n = operator.index(value)
        except TypeError:
            pass
        else:
            if n < least or (most is not None and n > most):
                raise RequestValueError(f"`{name}` must be {wanted}, not {n}")
            if n > _SEED_MAX:
                # The engine counts in 64 bits: past that, pyo3 would say only "int
                # too big to convert".
                raise RequestValueError(
                    f"`{name}` {n} is more than the engine can count: at most {_SEED_MAX}"
                )
            return n
    hint = ""
    if isinstance(value, float) and value.is_integer():
        hint = f"; write {int(value):_}"
    elif isinstance(value, str) and value.strip().isdigit():
        hint = f"; write {int(value):_}, without quotes"
    raise RequestTypeError(f"`{name}` must be {wanted}, not {repr(value)} ({_kind(value)}{hint})")


def _number(name: str, value: Any) -> Optional[float]:
    """`value` as a float (None stays None), or the error naming `name`: any real number
    (an int, a float, a numpy number), not a bool or a string."""
    if value is None:
        return None
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise RequestTypeError(f"`{name}` must be a number, not {_shown(value)}")
    # A number past the largest double (an int, a Fraction); NaN and infinity are
    # judged by the library, as the command line's are.
    try:
        return float(value)
    except OverflowError:
        raise RequestValueError(
            f"`{name}` {_shown(value)} is past the largest number there is here (about 1.8e308)"
        ) from None


def _text(name: str, value: Any, accepted: str) -> Any:
    """`value` if it is a string (None stays None), else the error naming `name`."""
    if value is not None and not isinstance(value, str):
        raise RequestTypeError(f"`{name}` must be {accepted}, not {_shown(value)}")
    return value


def _size(name: str, value: Any) -> Union[int, str, None]:
    """A memory size: a whole number of bytes, or a size as the command line writes it
    ("512M", "4G", whose value the library checks)."""
    if isinstance(value, str) or value is None:
        return value
    wanted = 'a whole number of bytes or a size such as "4G"'
    try:
        return _whole(name, value, 0)
    except RequestTypeError:
        raise RequestTypeError(f"`{name}` must be {wanted}, not {_shown(value)}") from None
    except RequestValueError:
        raise RequestValueError(f"`{name}` must be {wanted}, not {value}") from None


def _many(name: str, value: Any, wanted: str, entry: str = "") -> List[Any]:
    """The items of a list-like argument (a list, a tuple, a range, a numpy array, any
    iterable but a string, bytes or a dict), or the error naming `name` (and the `entry`
    of it, a dict's key): one value given where a list is wanted."""
    if not isinstance(value, (str, bytes, bytearray, memoryview, Mapping)):
        try:
            return list(value)
        except TypeError:
            pass
    where = f"`{name}` {entry}: " if entry else f"`{name}` "
    raise RequestTypeError(f"{where}must be {wanted}, not {_shown(value)}")


def _mapping(name: str, value: Any, wanted: str) -> Mapping[Any, Any]:
    """`value` if it is a mapping (a dict), else the error naming `name`."""
    if not isinstance(value, Mapping):
        raise RequestTypeError(f"`{name}` must be {wanted}, not {_shown(value)}")
    return value


def _pointer(name: str, key: Any) -> str:
    """A JSON pointer given as a dict's key or a list's item."""
    if not isinstance(key, str):
        raise RequestTypeError(
            f"`{name}`: {_shown(key)} is not a JSON pointer (a string such as \"/service/efficiency\")"
        )
    return key


def _settings(trials: Any, seed: Any, threads: Any, max_memory: Any, sampling: Any) -> Dict[str, Any]:
    """The settings every function that runs trials takes, checked, as the extension's
    keyword arguments: the one place their types and ranges are checked."""
    return dict(
        trials=_whole("trials", trials, 1),
        seed=_whole("seed", seed, 0, _SEED_MAX),
        threads=_whole("threads", threads, 1),
        max_memory=_size("max_memory", max_memory),
        sampling=_text("sampling", sampling, '"plain" or "lhs"'),
    )


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _callers_level() -> int:
    """The `stacklevel` for a warning from `_tell` that points at the user's code: the
    first frame outside this package (calls reach `_tell` by several paths, so no fixed
    level is right). Python's default filter tells a warning once per place, so a
    warning placed inside the package would hide a second file's same warning."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def _tell(
    notices: Iterable[Tuple[str, str]],
    already: FrozenSet[Tuple[str, str]] = frozenset(),
    lead: str = "",
) -> None:
    """Warns each notice but those in `already`: what loading the scenario told (a rate
    typed as a percentage, a workbook formula read as its saved 0) is told once, not
    again by each run of it. `lead` (a file's name) goes before each text."""
    for kind, text in notices:
        # A comparison of several files says each later file's notices after its name
        # ("b.xlsx: Partners!J3 ..."); loading that file told them without it.
        said = (kind, text) in already or any(
            k == kind and text.endswith(f": {t}") for k, t in already
        )
        if not said:
            warnings.warn(f"{kind}: {lead}{text}", ScenarioWarning, stacklevel=_callers_level())


class Scenario:
    """A validated scenario: a file, a dict or JSON text, with any overrides.

    Build one with `Scenario.load`, `Scenario.from_dict` or `Scenario.from_json`; an
    invalid scenario raises `ScenarioError`, whose `.problems` lists every problem as
    (JSON path, message). A Scenario is immutable and can be pickled (to send it to a
    worker process).
    """

    def __init__(
        self,
        _spec: Tuple[Optional[bytes], Optional[str], str, List[str]],
        _told: FrozenSet[Tuple[str, str]] = frozenset(),
        _file: Optional[str] = None,
    ):
        # What loading a file tells is led by the file's name (as the command line's
        # compare leads each file's): files loaded in a loop often warn alike, and
        # Python tells a warning's text once per line of code.
        if not isinstance(_spec, tuple):
            # A user's first guess, Scenario("my.json"), would otherwise fail deep in
            # the native layer with a message about tuples.
            if isinstance(_spec, (str, os.PathLike)):
                how = "Scenario.load(path)"
            elif isinstance(_spec, Mapping):
                how = "Scenario.from_dict(d)"
            else:
                how = "Scenario.load(path), Scenario.from_dict(d) or Scenario.from_json(text)"
            raise RequestTypeError(f"a Scenario is made by {how}, not by calling Scenario() with {_shown(_spec)}")
        lead = f"{_spec[2]}: " if _spec[0] is not None else ""
        try:
            value, summary, plausibility, notices = _native.load(_spec)
        except Exception as e:
            # Told before the error, as the command line prints them before it. Where
            # warnings are made errors, the scenario's error is still what is raised,
            # caused by the warning.
            try:
                _tell(getattr(e, "notices", ()), _told, lead)
            except Warning as w:
                raise e from w
            raise
        self._spec = _spec
        # The absolute path of the file it was loaded from: no result of it may be
        # written over that file (as the command line refuses an output that is an
        # input), wherever the working folder has moved since.
        self._file = _file
        self._value = value
        self._summary = summary
        self._warnings = list(plausibility)
        self._told = frozenset((kind, text) for kind, text in notices)
        _tell(notices, _told, lead)

    @classmethod
    def load(cls, path: PathLike) -> "Scenario":
        """Reads a scenario file (JSON, or a workbook made by `init --xlsx` or `convert`),
        named in messages as given."""
        path = _path("path", path)
        # Read once and kept: what runs is what was loaded, even if the file changes
        # or the working folder does, and a pickled copy runs in any process.
        return cls((_native.read_file(path), None, path, []), _file=os.path.abspath(path))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], name: str = "the scenario") -> "Scenario":
        """A scenario from a dict (as `json.load` gives it); `name` is how messages
        name it."""
        _mapping("d", d, "a dict of the scenario's fields (as json.load gives it)")
        return cls.from_json(_json_value(d, "`d`"), name)

    @classmethod
    def from_json(cls, text: str, name: str = "the scenario") -> "Scenario":
        """A scenario from JSON text; `name` is how messages name it."""
        _text("text", text, "JSON text (a str)")
        _text("name", name, "a str")
        return cls((None, text, name, []))

    def to_dict(self) -> Dict[str, Any]:
        """The scenario as it runs (overrides applied), as a new dict."""
        value: Dict[str, Any] = json.loads(self._value)
        return value

    def with_values(self, values: Mapping[str, Any]) -> "Scenario":
        """A copy with values changed, each given by a JSON pointer as `--set` takes it
        (partners may be named: "/partners/Otterby District Council/exit_fee"). Values
        are any JSON value (a number, a string, a distribution as a dict). Raises
        `ScenarioError` if a pointer or the edited scenario is wrong."""
        path, text, name, overrides = self._spec
        _mapping("values", values, "a dict of {JSON pointer: value}")
        added = [
            f"{_pointer('values', pointer)}={_json_value(v, f'`values` {pointer}')}"
            for pointer, v in values.items()
        ]
        return Scenario((path, text, name, overrides + added), self._told, getattr(self, "_file", None))

    def validate(self) -> str:
        """The one-paragraph summary `consortium-sim validate` prints after `ok` (the
        scenario was validated when it was made)."""
        return self._summary

    @property
    def overrides(self) -> List[str]:
        """The `--set` overrides applied, as POINTER=VALUE."""
        return list(self._spec[3])

    @property
    def name(self) -> str:
        """How messages name the scenario (its path, or the name given)."""
        return self._spec[2]

    @property
    def warnings(self) -> List[str]:
        """Values valid but probably meant as fractions (as `validate` lists them)."""
        return list(self._warnings)

    def __repr__(self) -> str:
        extra = f", {len(self._spec[3])} overrides" if self._spec[3] else ""
        return f"<Scenario {self._spec[2]!r}{extra}>"


def _plain(value: Any) -> Any:
    """numpy's numbers and arrays as Python's, for JSON (analysts pass them)."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(type(value).__name__)


def _finite(v: Any) -> bool:
    """Whether the real number `v` is a finite double: not NaN or infinity, and not an
    int past the largest double (about 1.8e308), which `math.isfinite` and `float`
    would meet with a bare OverflowError."""
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


# Why a number is not one a scenario can hold, as the messages say it.
_NOT_FINITE = (
    "is not a number a scenario can hold: JSON has no NaN or infinity, and no number "
    "past about 1.8e308; give a finite number"
)


def _non_finite(v: Any, at: str = "") -> Optional[Tuple[str, Any]]:
    """The first NaN, infinity or too large a number in `v` (lists and dicts searched in
    order) with its JSON pointer, or None: JSON has no such numbers, and Python's `json`
    would write them as `NaN` (or 400 digits), which the scenario's reader refuses as
    not JSON at all."""
    if isinstance(v, numbers.Real) and not _is_bool(v) and not _finite(v):
        return at, v
    if type(v).__module__ == "numpy" and hasattr(v, "tolist"):
        # An array of any shape (a 0-d array is a number, a matrix a list of lists), as
        # `_plain` writes it; a numpy number is a Real, above.
        return _non_finite(v.tolist(), at)
    if isinstance(v, Mapping):
        items: Iterable[Tuple[Any, Any]] = v.items()
    elif isinstance(v, (list, tuple)):
        items = enumerate(v)
    else:
        return None
    for key, item in items:
        escaped = str(key).replace("~", "~0").replace("/", "~1")
        found = _non_finite(item, f"{at}/{escaped}")
        if found is not None:
            return found
    return None


def _json_value(v: Any, what: str = "a value") -> str:
    """`v` as JSON text; `what` names it in the error if it is not a JSON value."""
    try:
        bad = _non_finite(v)
    except RecursionError:
        # A list that holds itself: json.dumps below says it is no JSON value.
        bad = None
    if bad is not None:
        at, number = bad
        where = f" at {at}" if at else ""
        raise RequestValueError(f"{what}{where}: {_shown(number)} {_NOT_FINITE}")
    try:
        return json.dumps(v, separators=(",", ":"), default=_plain, allow_nan=False)
    except (TypeError, ValueError):
        raise RequestTypeError(
            f"{what}: {_shown(v)} is not a JSON value (a number, a string, a bool, None, "
            "a list or a dict of them)"
        ) from None


def _path(name: str, value: Any) -> str:
    """A path as a string (a str or an os.PathLike), or the error naming `name`."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise RequestTypeError(f"`{name}` must be a path (a str or a pathlib.Path), not {_shown(value)}")
    if not value:
        raise RequestValueError(f"`{name}` is empty: name a file")
    return value


def _output(name: str, value: Any) -> str:
    """A path to write, as `_path`; `-` is a file of that name, as Python's `open` has
    it, not standard output as on the command line (in Jupyter, whatever goes there is
    lost)."""
    path = _path(name, value)
    return os.path.join(".", path) if path == "-" else path


ScenarioLike = Union[Scenario, PathLike, Mapping[str, Any]]


def _inputs(s: Scenario) -> List[Tuple[str, str]]:
    """The file a scenario was loaded from, as an input its results may not replace."""
    # getattr: a Scenario pickled by an earlier version has no `_file`.
    file = getattr(s, "_file", None)
    return [("the scenario", file)] if file is not None else []


def _some_names(names: Sequence[str]) -> str:
    """Names as a message lists them: the first few, then how many more (as the command
    line's messages do)."""
    shown = ", ".join(names[:10])
    return shown if len(names) <= 10 else f"{shown} and {len(names) - 10} more"


def _scenario(s: ScenarioLike, name: str = "`scenario`", hint: str = "") -> Scenario:
    """A Scenario from what a function was given (`name`, as its messages call it)."""
    if isinstance(s, Scenario):
        return s
    if isinstance(s, Mapping):
        return Scenario.from_dict(s)
    if isinstance(s, (str, os.PathLike)):
        return Scenario.load(s)
    raise RequestTypeError(f"{name} must be a Scenario, a path or a dict, not {_shown(s)}{hint}")


class _Progress:
    """A tqdm bar for work longer than a second (none if tqdm is not installed or
    `enabled` is false); the engine calls it every tick with (done, total) trials."""

    DELAY = 1.0

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.start = time.monotonic()
        self.bar: Any = None

    def callback(self) -> Optional[Callable[[int, int], None]]:
        return self if self.enabled else None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.start < self.DELAY or total == 0:
                return
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self.enabled = False
                return
            self.bar = tqdm(total=total, unit="trials", unit_scale=True, leave=False)
        if self.bar.total != total:
            self.bar.reset(total=total)
        self.bar.n = done
        self.bar.refresh()

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.close()


#: The measures and statistics of a partner's cash by year, in the cash flow CSV's order.
_CASH_MEASURES = ("cash", "cumulative_cash", "discounted", "cumulative_discounted")
_CASH_STATISTICS = ("mean", "p05", "p25", "p50", "p75", "p95")


class Run:
    """A finished run: its report, its trials and its files.

    `.report` is the command line's JSON report as a dict; `.trials` the trials CSV as
    a DataFrame (built from the outcome columns through numpy); `.by_year` and
    `.partners` the report's tables. In Jupyter a Run shows its headline figures and
    fan chart.
    """

    def __init__(
        self,
        native: "_native.Run",
        _told: FrozenSet[Tuple[str, str]] = frozenset(),
        _inputs: Sequence[Tuple[str, str]] = (),
    ):
        self._native = native
        # The files it was read from (see `_inputs`), which its exports may not replace.
        self._inputs = list(_inputs)
        _tell(native.notices, _told)

    @cached_property
    def report(self) -> Dict[str, Any]:
        """The report, equal to `consortium-sim run ... --out report.json` read with
        `json.load`."""
        report: Dict[str, Any] = json.loads(self._native.report_json())
        return report

    def report_json(self) -> str:
        """The report's JSON text, byte for byte what `--out` writes."""
        return self._native.report_json()

    def summary(self) -> str:
        """The terminal summary, as `consortium-sim run` prints it."""
        return self._native.summary()

    @cached_property
    def trials(self) -> "pandas.DataFrame":
        """One row per trial, the columns of `--trials-csv` in its order: `trial`,
        `npv`, each partner's NPV (named after it), `payback_year`, `withdrawals`,
        `rejoins`, `disputes`, `dispute_years`, `collapse_year` and, when go-live may
        slip, `delay_years`. Counts are int64, money float64, and the two year columns
        float64 with NaN for "never", as pandas reads the CSV."""
        import pandas as pd

        columns = self._native.columns()
        frame = pd.DataFrame({i: a for i, (_, a) in enumerate(columns)}, copy=False)
        frame.columns = [name for name, _ in columns]
        return frame

    @cached_property
    def by_year(self) -> "pandas.DataFrame":
        """The fan chart's figures: cumulative discounted saving by year (mean and
        percentiles), one row per year from 0."""
        import pandas as pd

        # The year is the index, not also a column: pandas refuses a name that is both
        # (in `sort_values("year")`, `groupby`, `merge`, `reset_index`).
        return pd.DataFrame(self.report["consortium"]["by_year"]).set_index("year")

    @cached_property
    def partners(self) -> "pandas.DataFrame":
        """One row per partner, indexed by name: its NPV's summary (`npv_mean`,
        `npv_p05`, ...), P(worse off), P(withdraws) and any other figure the report
        gives each partner."""
        import pandas as pd

        # Each partner's cash by year is a table of its own (`cash_by_year`), not a
        # column of lists.
        partners = [{k: v for k, v in p.items() if k != "by_year"} for p in self.report["partners"]]
        frame = pd.json_normalize(partners, sep="_")
        return frame.set_index("name")

    @cached_property
    def cash_by_year(self) -> "pandas.DataFrame":
        """Each partner's cash by year, for a medium-term financial plan: one row per
        partner and year (indexed by both), with the cash flow CSV's columns: the mean,
        P5, P25, P50, P75 and P95 of the saving in the year (`cash_mean`, `cash_p05`,
        ...), of its sum so far (`cumulative_cash_...`), and of both discounted
        (`discounted_...`, `cumulative_discounted_...`)."""
        import pandas as pd

        rows = []
        for p in self.report["partners"]:
            for y in p["by_year"]:
                row: Dict[str, Any] = {"partner": p["name"], "year": y["year"]}
                for measure in _CASH_MEASURES:
                    for stat in _CASH_STATISTICS:
                        row[f"{measure}_{stat}"] = y[measure][stat]
                rows.append(row)
        return pd.DataFrame(rows).set_index(["partner", "year"])

    @property
    def target_reached(self) -> bool:
        """Whether a run to a precision target met it (always true without one)."""
        return self._native.target_reached

    def export(self, format: str, path: PathLike) -> None:
        """Writes the run in a format the library registers (`formats()`: json, html,
        csv, and any added later), atomically; Ctrl-C leaves nothing."""
        _text("format", format, f"a format's name ({', '.join(formats())})")
        self._native.export(format, _output("path", path), self._inputs)

    def write_json(self, path: PathLike) -> None:
        """The JSON report, as `--out` writes it."""
        self.export("json", path)

    def write_html(self, path: PathLike) -> None:
        """The self-contained page with charts, as `--html` writes it."""
        self.export("html", path)

    def write_trials_csv(self, path: PathLike) -> None:
        """The trial table, as `--trials-csv` writes it."""
        self.export("csv", path)

    def _repr_html_(self) -> str:
        return self._native.html_fragment()

    def __repr__(self) -> str:
        r = self.report
        mean = r["consortium"]["npv"]["mean"]
        return f"<Run {r['scenario']!r}: {r['trials']} trials, seed {r['seed']}, mean NPV {mean:,.0f}>"


def formats() -> List[str]:
    """The names of the export formats the library registers."""
    return list(_native.formats())


def run(
    scenario: ScenarioLike,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    target_se: Optional[float] = None,
    target_prob_ci: Optional[float] = None,
    max_trials: Optional[int] = None,
    max_memory: Union[int, str, None] = None,
    progress: bool = True,
    sampling: str = "plain",
) -> Run:
    """Runs a scenario (a `Scenario`, a path or a dict), as `consortium-sim run` does.

    `trials` and `seed` default to the scenario's; `threads` to one per core (results
    do not depend on it). `target_se` or `target_prob_ci` (with `max_trials`) run until
    that precision is met. `max_memory` (bytes, or "4G") bounds the memory the run may
    take. A progress bar (tqdm, if installed) shows for runs longer than a second
    unless `progress=False`. Ctrl-C stops the run and raises `KeyboardInterrupt`.
    `sampling="lhs"` samples the trial-level inputs by Latin hypercube in blocks of
    1,024 trials (`--sampling lhs`): the same figures with less noise, and standard
    errors estimated from the blocks. Every function that runs trials takes it.
    """
    settings = _settings(trials, seed, threads, max_memory, sampling)
    target = dict(
        target_se=_number("target_se", target_se),
        target_prob_ci=_number("target_prob_ci", target_prob_ci),
        max_trials=_whole("max_trials", max_trials, 1),
    )
    s = _scenario(scenario)
    with _Progress(progress) as bar:
        native = _native.run_scenario(s._spec, **settings, **target, progress=bar.callback())
    return Run(native, s._told, _inputs(s))


def run_shard(
    scenario: ScenarioLike,
    shard: int,
    shards: int,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    max_memory: Union[int, str, None] = None,
    sampling: str = "plain",
) -> bytes:
    """Runs shard `shard` (0 to `shards` - 1) of a run and returns its partial result
    as bytes (what `run --shard K/N --partial FILE` writes), for a worker pool to hand
    back; `merge` joins them."""
    settings = _settings(trials, seed, threads, max_memory, sampling)
    index, count = _whole("shard", shard, 0), _whole("shards", shards, 1)
    # Checked before the scenario is loaded, so that its warnings do not come first.
    if index >= count:
        raise RequestValueError(
            f"`shard` {index} of {count} does not exist (shards are numbered 0 to {count - 1})"
        )
    s = _scenario(scenario)
    return _native.run_shard(s._spec, index, count, **settings)


def merge(parts: Sequence[Union[bytes, PathLike]], max_memory: Union[int, str, None] = None) -> Run:
    """Joins partial results (bytes from `run_shard`, or files written by `run --shard`)
    into the run they are shards of: its report is the single run's, byte for byte but
    for timings and the generation time. Messages name a file as given, and bytes by
    their place in `parts` (`parts[1]`)."""
    import tempfile

    items = _many("parts", parts, "a list of partial results (bytes from run_shard, or paths of files "
                  "run --shard wrote)")
    max_memory = _size("max_memory", max_memory)
    with tempfile.TemporaryDirectory(prefix="consortium-sim-parts-") as folder:
        paths = []
        # The library reads files, so bytes go to files of a temporary folder; its
        # messages name them as `parts[k]`, never by that folder.
        names: Dict[str, str] = {}
        for k, part in enumerate(items):
            if isinstance(part, (bytes, bytearray, memoryview)):
                path = os.path.join(folder, f"part-{k + 1}.bin")
                with open(path, "wb") as f:
                    f.write(part)
                names[path] = f"`parts[{k}]` (bytes)"
                paths.append(path)
            elif isinstance(part, (str, os.PathLike)):
                paths.append(os.fspath(part))
            else:
                raise RequestTypeError(
                    f"`parts[{k}]` must be bytes from run_shard or the path of a file run --shard "
                    f"wrote, not {_shown(part)}"
                )
        try:
            native = _native.merge(paths, max_memory=max_memory)
        except Error as e:
            text = str(e)
            for path, name in names.items():
                text = text.replace(path, name)
            e.args = (text,)
            raise
    # The files among the parts, which its exports may not replace.
    inputs = [
        ("the partial result", os.path.abspath(os.fspath(part)))
        for part in items
        if isinstance(part, (str, os.PathLike))
    ]
    return Run(native, _inputs=inputs)


def _table(csv_text: str) -> "pandas.DataFrame":
    import pandas as pd

    return pd.read_csv(io.StringIO(csv_text))


class _Analysis:
    def __init__(self, result: str, text: str):
        self.result: Dict[str, Any] = json.loads(result)
        self._json = result
        self.text = text

    def to_json(self) -> str:
        """The analysis as `--out` writes it."""
        return self._json

    def __str__(self) -> str:
        return self.text


class Sweep(_Analysis):
    """A sweep: `.table` has one row per point (the `--csv` table), `.result` the whole
    analysis (the `--out` JSON) as a dict, `.text` the printed table."""

    def __init__(self, result: str, text: str, csv_text: str):
        super().__init__(result, text)
        self.csv = csv_text
        self.table = _table(csv_text)

    def _repr_html_(self) -> str:
        return str(self.table._repr_html_())


class Sensitivity(_Analysis):
    """A sensitivity study: `.tornado`, `.rank_correlation` and `.switching_values` as
    DataFrames (one row per input, the JSON's fields flattened with `_`), `.result` the
    whole study as a dict, `.text` the printed tables."""

    def __init__(self, result: str, text: str):
        super().__init__(result, text)
        import pandas as pd

        self.tornado = pd.json_normalize(self.result["tornado"], sep="_")
        self.rank_correlation = pd.json_normalize(self.result["rank_correlation"], sep="_")
        self.switching_values = pd.json_normalize(self.result["switching_values"], sep="_")

    def _repr_html_(self) -> str:
        return str(self.tornado._repr_html_())


class Comparison(_Analysis):
    """A comparison: `.table` has one row per scenario (its figures flattened with `_`),
    `.partners` one row per scenario and partner, `.result` the whole comparison as a
    dict, `.text` the printed table."""

    def __init__(self, result: str, text: str):
        super().__init__(result, text)
        import pandas as pd

        rows = [{k: v for k, v in s.items() if k != "partners"} for s in self.result["scenarios"]]
        self.table = pd.json_normalize(rows, sep="_").set_index("name")
        self.partners = pd.json_normalize(
            self.result["scenarios"], record_path="partners", meta=["name"], record_prefix="partner_", sep="_"
        )

    def _repr_html_(self) -> str:
        return str(self.table._repr_html_())


class Agreement(_Analysis):
    """Sets of agreement terms: `.table` has one row per set in rank order (the
    `agreement --csv` table: the terms' values, whether the set meets the limits and is
    on the frontier, the consortium's figures, the worst partner, each partner's mean
    NPV and P(worse off)); `.frontier` the frontier's set numbers, `.meeting_limits` how
    many sets meet the limits, `.result` the whole analysis as a dict, `.text` the
    printed tables."""

    def __init__(self, result: str, text: str, csv_text: str):
        super().__init__(result, text)
        self.csv = csv_text
        self.table = _table(csv_text)
        self.frontier: List[int] = list(self.result["frontier"])
        self.meeting_limits: int = int(self.result["meeting_limits"])

    def _repr_html_(self) -> str:
        return str(self.table._repr_html_())


class Trace:
    """A replayed trial: `.table` has one row per year and partner, `.story` the text
    `consortium-sim trace` prints, `.trial` its index; `write_html` writes its page."""

    def __init__(
        self,
        trial: int,
        story: str,
        page: str,
        rows: List[Dict[str, Any]],
        _inputs: Sequence[Tuple[str, str]] = (),
    ):
        import pandas as pd

        self._inputs = list(_inputs)
        self.trial = trial
        self.story = story
        self._page = page
        self.table = pd.DataFrame(rows)

    def write_html(self, path: PathLike) -> None:
        """The trial's page, as `trace --html` writes it: atomically, and never over the
        scenario file it replays."""
        _native.write_page(_output("path", path), self._page, self._inputs)

    def __str__(self) -> str:
        return self.story


def _params(name: str, params: Mapping[str, Union[str, Sequence[Any]]]) -> List[str]:
    """A sweep's `params` or an agreement's `terms` as the command line writes them
    (`POINTER=V1,V2,...` or `POINTER=START:STOP:STEPS`)."""
    _mapping(name, params, 'a dict of {JSON pointer: values}, such as {"/service/efficiency": [0.05, 0.1]}')
    specs = []
    for pointer, values in params.items():
        _pointer(name, pointer)
        if isinstance(values, str):
            specs.append(f"{pointer}={values}")
        else:
            listed = _many(
                name, values,
                'a list of values, such as [0.05, 0.1], or a range as the command line writes it, '
                'such as "0.05:0.25:9"', entry=pointer,
            )
            specs.append(f"{pointer}=" + ",".join(_json_value(v, f"`{name}` {pointer}") for v in listed))
    return specs


def sweep(
    scenario: ScenarioLike,
    params: Mapping[str, Union[str, Sequence[Any]]],
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    max_memory: Union[int, str, None] = None,
    progress: bool = True,
    sampling: str = "plain",
) -> Sweep:
    """Runs the scenario at each value of one parameter (a line) or two (a grid), as
    `consortium-sim sweep` does: `{"/service/efficiency": [0.05, 0.1, 0.15]}`, or a
    range as the command line writes it, `{"/service/efficiency": "0.05:0.25:9"}`."""
    settings = _settings(trials, seed, threads, max_memory, sampling)
    specs = _params("params", params)
    s = _scenario(scenario)
    with _Progress(progress) as bar:
        result, text, csv_text, notices = _native.sweep(s._spec, specs, **settings, progress=bar.callback())
    _tell(notices, s._told)
    assert csv_text is not None, "a sweep always has its table"
    return Sweep(result, text, csv_text)


def sensitivity(
    scenario: ScenarioLike,
    switch: Sequence[str] = (),
    target_prob_loss: Optional[float] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    max_memory: Union[int, str, None] = None,
    progress: bool = True,
    sampling: str = "plain",
) -> Sensitivity:
    """Tornado, rank correlations and switching values, as `consortium-sim
    sensitivity` gives them (`switch`: the pointers whose switching values to find)."""
    settings = _settings(trials, seed, threads, max_memory, sampling)
    pointers = [
        _pointer("switch", p)
        for p in _many("switch", switch, 'a list of JSON pointers, such as ["/service/delay_years"]')
    ]
    target = _number("target_prob_loss", target_prob_loss)
    s = _scenario(scenario)
    with _Progress(progress) as bar:
        result, text, _, notices = _native.sensitivity(
            s._spec, pointers, target_prob_loss=target, **settings, progress=bar.callback(),
        )
    _tell(notices, s._told)
    return Sensitivity(result, text)


def agreement(
    scenario: ScenarioLike,
    terms: Mapping[str, Union[str, Sequence[Any]]],
    max_worse_off: Optional[float] = None,
    max_collapse: Optional[float] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    max_memory: Union[int, str, None] = None,
    progress: bool = True,
    sampling: str = "plain",
) -> Agreement:
    """Every set of the terms' values, as `consortium-sim agreement` runs them under
    common random numbers, judged against the limits on any partner's P(worse off) and
    on P(collapse), ranked, with the trade-off frontier: `{"/partners/*/exit_fee": [0,
    500000], "/partners/*/lock_in_years": "0:6:4"}`. No set meeting the limits is an
    answer, not an error: `.meeting_limits` is then 0."""
    settings = _settings(trials, seed, threads, max_memory, sampling)
    specs = _params("terms", terms)
    limits = dict(
        max_worse_off=_number("max_worse_off", max_worse_off),
        max_collapse=_number("max_collapse", max_collapse),
    )
    s = _scenario(scenario)
    with _Progress(progress) as bar:
        result, text, csv_text, notices = _native.agreement(
            s._spec, specs, **limits, **settings, progress=bar.callback(),
        )
    _tell(notices, s._told)
    assert csv_text is not None, "an agreement always has its table"
    return Agreement(result, text, csv_text)


def compare(
    scenario: ScenarioLike,
    *others: ScenarioLike,
    variants: Optional[Mapping[str, Mapping[str, Any]]] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    max_memory: Union[int, str, None] = None,
    progress: bool = True,
    sampling: str = "plain",
) -> Comparison:
    """Compares scenarios trial by trial under common random numbers, as `consortium-sim
    compare` does: several scenarios, or one and its `variants`, each a name and the
    values it changes: `variants={"equal shares": {"/service/cost_sharing": "equal"}}`.
    A comparison needs two scenarios or more, or one and at least one variant, not both
    (as the command line's `compare`)."""
    settings = _settings(trials, seed, threads, max_memory, sampling)
    named = _mapping(
        "variants", {} if variants is None else variants,
        'a dict of {name: {JSON pointer: value}}, such as {"equal": {"/service/cost_sharing": "equal"}}',
    )
    specs = []
    for name, values in named.items():
        if not isinstance(name, str):
            raise RequestTypeError(f"`variants`: a variant's name must be a str, not {_shown(name)}")
        if not isinstance(values, Mapping):
            raise RequestTypeError(
                f"`variants` {name!r} must be a dict of {{JSON pointer: value}}, such as "
                f'{{"/service/cost_sharing": "equal"}}, not {_shown(values)}'
            )
        edits = [
            f"{_pointer('variants', p)}={_json_value(v, f'`variants` {name!r} {p}')}"
            for p, v in values.items()
        ]
        specs.append(f"{name}:" + ";".join(edits))
    # The request is checked before the scenarios are loaded, so that its error is not
    # preceded by what loading them warns (as on the command line); first, a list of
    # scenarios given as one argument, which is refused saying how to give several.
    several = "; give each scenario as an argument of its own: compare(a, b, c)"
    hint = several if isinstance(scenario, (list, tuple)) else ""
    if hint:
        _scenario(scenario, hint=hint)
    if not others and not specs:
        raise RequestValueError(
            "compare needs two or more scenarios, or one scenario and `variants`: compare(a, b), "
            'or compare(s, variants={"name": {pointer: value}})'
        )
    if others and specs:
        raise RequestValueError(
            "`variants` makes variants of one scenario; give either several scenarios or one "
            "scenario with `variants`"
        )
    # A path given more than once is read once, so its warnings are told once.
    read: Dict[str, Scenario] = {}

    def load(o: Any, name: str, hint: str = "") -> Scenario:
        if isinstance(o, (str, os.PathLike)):
            key = os.fspath(o)
            if key not in read:
                read[key] = _scenario(o, name, hint)
            return read[key]
        return _scenario(o, name, hint)

    s = load(scenario, "`scenario`")
    more = [
        load(o, f"compare's scenario {k + 2}", several if isinstance(o, (list, tuple)) else "")
        for k, o in enumerate(others)
    ]
    with _Progress(progress) as bar:
        result, text, _, notices = _native.compare(
            s._spec, [o._spec for o in more], specs, **settings, progress=bar.callback(),
        )
    _tell(notices, s._told.union(*(o._told for o in more)))
    return Comparison(result, text)


def trace(
    scenario: ScenarioLike,
    trial: Optional[int] = None,
    percentile: Optional[float] = None,
    worst_for: Union[str, int, None] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    max_memory: Union[int, str, None] = None,
    progress: bool = True,
    sampling: str = "plain",
) -> Trace:
    """Replays one trial year by year, as `consortium-sim trace` does: `trial=k`, or the
    trial at a `percentile` of the consortium's NPV (the 1st, "the worst", if neither is
    given), or at a partner's own 1st percentile (`worst_for`, its name or index)."""
    if trial is not None and (percentile is not None or worst_for is not None):
        raise RequestError(
            "`trial` names the trial to replay: give it, or `percentile` or `worst_for`, not both"
        )
    settings = _settings(trials, seed, threads, max_memory, sampling)
    trial = _whole("trial", trial, 0)
    if percentile is not None:
        if _is_bool(percentile) or not isinstance(percentile, numbers.Real):
            raise RequestTypeError(f"`percentile` {percentile!r}: expected a percentile from 0 to 100")
        if not 0 <= percentile <= 100:
            raise RequestValueError(f"`percentile` {percentile!r}: expected a percentile from 0 to 100")
        percentile = float(percentile)
    # The form of `worst_for` is checked before the scenario is loaded (so that its
    # warnings do not come first); whether it names a partner, after.
    if worst_for is not None and not isinstance(worst_for, str):
        index: Optional[int] = None
        if not _is_bool(worst_for):
            try:
                index = operator.index(worst_for)
            except TypeError:
                pass
        if index is None:
            raise RequestTypeError(
                f"`worst_for` must be a partner's name (a str) or index (a whole number), not "
                f"{_shown(worst_for)}"
            )
        worst_for = index
    s = _scenario(scenario)
    partner = None
    if worst_for is not None:
        names = [p["name"] for p in s.to_dict()["partners"]]
        if isinstance(worst_for, str) and worst_for in names:
            partner = names.index(worst_for)
        elif isinstance(worst_for, int) and 0 <= worst_for < len(names):
            partner = worst_for
        elif isinstance(worst_for, int):
            # An index: say that it is past the ends, as the command line does.
            raise RequestValueError(
                f"`worst_for` {worst_for}: there is no partner {worst_for}: partners are "
                f"numbered from 0 to {len(names) - 1} (or named: {_some_names(names)})"
            )
        else:
            raise RequestValueError(
                f"`worst_for` {worst_for}: there is no partner of that name (partners: {_some_names(names)})"
            )
        percentile = 1.0 if percentile is None else percentile
    with _Progress(progress) as bar:
        k, story, page, rows = _native.trace(
            s._spec, trial=trial, percentile=percentile, partner=partner, **settings,
            progress=bar.callback(),
        )
    return Trace(k, story, page, rows, _inputs(s))
