"""Types of the extension module: the library's run API, as `consortium_sim` calls it.

Use the `consortium_sim` package instead: these are its building blocks."""

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy.typing as npt

from ._problem import Problem

# A scenario: (path, JSON text, name, overrides), a file or text.
_Spec = Tuple[Optional[bytes], Optional[str], str, List[str]]
_Notices = List[Tuple[str, str]]
_Progress = Optional[Callable[[int, int], None]]
_Size = Union[int, str, None]

ENGINE_VERSION: str

class Error(Exception): ...

class ScenarioError(Error):
    # Each a (path, message) pair with the workbook's place: `.sheet`, `.cell`, `.row`.
    problems: List[Problem]

class RequestError(Error): ...

class Run:
    def report_json(self) -> str: ...
    def summary(self) -> str: ...
    def html_fragment(self) -> str: ...
    @property
    def target_reached(self) -> bool: ...
    @property
    def notices(self) -> _Notices: ...
    @property
    def currency(self) -> str: ...
    def columns(self) -> List[Tuple[str, npt.NDArray[Any]]]: ...
    def export(self, format: str, path: str, inputs: List[Tuple[str, str]]) -> None: ...
    @staticmethod
    def formats() -> List[str]: ...

def read_file(path: str) -> bytes: ...
def write_page(path: str, page: str, inputs: List[Tuple[str, str]]) -> None: ...
def load(spec: _Spec) -> Tuple[str, str, List[str], _Notices]: ...
def run_scenario(
    spec: _Spec,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    sampling: Optional[str] = None,
    target_se: Optional[float] = None,
    target_prob_ci: Optional[float] = None,
    max_trials: Optional[int] = None,
    max_memory: _Size = None,
    progress: _Progress = None,
) -> Run: ...
def run_shard(
    spec: _Spec,
    index: int,
    count: int,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    sampling: Optional[str] = None,
    max_memory: _Size = None,
) -> bytes: ...
def merge(paths: List[str], max_memory: _Size = None) -> Run: ...
def sweep(
    spec: _Spec,
    params: List[str],
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    sampling: Optional[str] = None,
    max_memory: _Size = None,
    progress: _Progress = None,
) -> Tuple[str, str, Optional[str], _Notices]: ...
def agreement(
    spec: _Spec,
    terms: List[str],
    max_worse_off: Optional[float] = None,
    max_collapse: Optional[float] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    sampling: Optional[str] = None,
    max_memory: _Size = None,
    progress: _Progress = None,
) -> Tuple[str, str, Optional[str], _Notices]: ...
def sensitivity(
    spec: _Spec,
    switch: List[str],
    target_prob_loss: Optional[float] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    sampling: Optional[str] = None,
    max_memory: _Size = None,
    progress: _Progress = None,
) -> Tuple[str, str, Optional[str], _Notices]: ...
def compare(
    spec: _Spec,
    more: List[_Spec],
    variants: List[str],
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    sampling: Optional[str] = None,
    max_memory: _Size = None,
    progress: _Progress = None,
) -> Tuple[str, str, Optional[str], _Notices]: ...
def trace(
    spec: _Spec,
    trial: Optional[int] = None,
    percentile: Optional[float] = None,
    partner: Optional[int] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    sampling: Optional[str] = None,
    max_memory: _Size = None,
    progress: _Progress = None,
) -> Tuple[int, str, str, List[Dict[str, Any]]]: ...
def formats() -> List[str]: ...
