"""One problem of a scenario, as `ScenarioError.problems` lists them.

Kept apart from the package's `__init__` (and free of the extension module) so that the
extension can build problems without depending on the order the package is imported in.
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

# The places the library gives a workbook's values (src/scenario/workbook): a cell
# (`Partners!J3`), a row of a table sheet (`Partners row 3`), or a whole sheet
# (`sheet Partners`, whose name may be any sheet's, the user's own included).
_SHEET = "sheet "
_CELL = re.compile(r"(?P<sheet>.+)!(?P<cell>[A-Z]{1,3}(?P<row>[1-9][0-9]*))")
_ROW = re.compile(r"(?P<sheet>.+) row (?P<row>[1-9][0-9]*)")


class Problem(Tuple[str, str]):
    """One problem of a scenario: a (path, message) pair, so that
    `for path, message in e.problems` reads it, with where it is in a scenario workbook.

    `path` is the JSON pointer of the value (or, for a bad override, the override as
    written; "" for the whole scenario); `message` what is wrong with it. For a scenario
    read from a workbook (.xlsx), `sheet` names its sheet ("Partners"), `cell` its cell
    ("J3") when the value is one cell, `row` its row (from 1, as Excel numbers them) when
    it is one cell or one row of a table, and `place` the library's own form of all three
    ("Partners!J3", "Partners row 3", "sheet Partners"). All four are None for a JSON
    scenario, or for a value changed since it was read (by `with_values`).
    """

    _place: Optional[str]

    def __new__(cls, path: str, message: str, place: Optional[str] = None) -> "Problem":
        problem = super().__new__(cls, (path, message))
        problem._place = place
        return problem

    def __getnewargs__(self) -> Tuple[str, str, Optional[str]]:  # type: ignore[override]
        return (self[0], self[1], self._place)

    @property
    def path(self) -> str:
        """The JSON pointer of the value ("" for the whole scenario)."""
        return self[0]

    @property
    def message(self) -> str:
        """What is wrong."""
        return self[1]

    @property
    def place(self) -> Optional[str]:
        """Where the value is in the workbook, as the library names it ("Partners!J3",
        "Partners row 3", "sheet Partners"), or None."""
        return self._place

    @property
    def sheet(self) -> Optional[str]:
        """The workbook's sheet the value is on ("Partners"), or None."""
        return _parse(self.place)[0]

    @property
    def cell(self) -> Optional[str]:
        """The value's cell on its sheet ("J3"), or None if it is not one cell."""
        return _parse(self.place)[1]

    @property
    def row(self) -> Optional[int]:
        """The value's row on its sheet (from 1), or None if it is not one cell or row."""
        return _parse(self.place)[2]

    def __repr__(self) -> str:
        if self._place is None:
            return f"Problem(path={self[0]!r}, message={self[1]!r})"
        return f"Problem(path={self[0]!r}, message={self[1]!r}, place={self.place!r})"

    def __str__(self) -> str:
        """As the command line lists it: `Partners!J3 (/partners/1/exit_fee): ...`."""
        where = self[0] or "(top level)"
        if self._place is not None:
            where = f"{self.place} ({self[0]})" if self[0] else self.place
        return f"{where}: {self[1]}"


def _parse(place: Optional[str]) -> Tuple[Optional[str], Optional[str], Optional[int]]:
    """(sheet, cell, row) of a place; all None for none, or a form not known here."""
    if place is None:
        return (None, None, None)
    if place.startswith(_SHEET):
        return (place[len(_SHEET):], None, None)
    m = _CELL.fullmatch(place)
    if m:
        return (m["sheet"], m["cell"], int(m["row"]))
    m = _ROW.fullmatch(place)
    if m:
        return (m["sheet"], None, int(m["row"]))
    return (None, None, None)
