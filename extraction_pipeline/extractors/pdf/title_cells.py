"""Ruled cells of a title block: where a label's value is when both sit in a grid of ruled cells.

CAD drawing templates (SolidWorks, Inventor, AutoCAD ISO/ANSI) print a tiny label in the top-left corner of a
cell and the value centred in the same cell, well right of the label; label|value grids put the value in the
next cell to the right (``DRAWN | J. DOE | 2024-02-03``) or in the cell under the label cell. The cells come from
the page's ruling lines, so a value is never taken from a neighbouring field's cell by distance alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from extraction_pipeline.extractors.pdf.model import Page, Rules, Run

_SLACK = 1.5
"""A rule this close (pt) to a run's edge still bounds it (text drawn touching its cell border)."""


@dataclass(frozen=True)
class Cell:
    left: float
    top: float
    right: float
    bottom: float

    def holds(self, run: Run) -> bool:
        return self.left <= run.center_x <= self.right and self.top <= run.center_y <= self.bottom


def cell_of(rules: Rules, x: float, y: float) -> Cell | None:
    """The smallest ruled rectangle around the point (rules spanning it on all four sides), or None."""
    left = max((e.x0 for e in rules.vertical if e.x0 <= x and e.top - _SLACK <= y <= e.bottom + _SLACK), default=None)
    right = min((e.x0 for e in rules.vertical if e.x0 > x and e.top - _SLACK <= y <= e.bottom + _SLACK), default=None)
    top = max((e.top for e in rules.horizontal if e.top <= y and e.x0 - _SLACK <= x <= e.x1 + _SLACK), default=None)
    bottom = min((e.top for e in rules.horizontal if e.top > y and e.x0 - _SLACK <= x <= e.x1 + _SLACK), default=None)
    if left is None or right is None or top is None or bottom is None:
        return None
    return Cell(left, top, right, bottom)


def value_in_cells(page: Page, label: Run, runs: list[Run], is_value: Callable[[Run], bool]) -> Run | None:
    """The label's value: under it in its own cell, else in the next cell to the right, else in the cell below.

    None when the label is not in a ruled cell, or those cells hold no value (``is_value``).
    """
    own = cell_of(page.rules, label.center_x, label.center_y)
    if own is None:
        return None
    below_in_own = [r for r in runs if r is not label and own.holds(r) and r.top >= label.bottom - 1 and is_value(r)]
    if below_in_own:
        return min(below_in_own, key=lambda r: (r.top, r.x0))
    right = cell_of(page.rules, own.right + _SLACK, label.center_y)
    below = cell_of(page.rules, label.center_x, own.bottom + _SLACK)
    for neighbour, aligned in (
        (right, right is not None and _near(right.top, own.top) and _near(right.bottom, own.bottom)),
        (below, below is not None and _near(below.left, own.left) and _near(below.right, own.right)),
    ):
        if neighbour is None or not aligned:  # a pair shares its row (value right) or its column (value below)
            continue
        found = [r for r in runs if r is not label and neighbour.holds(r) and is_value(r)]
        if found:
            return min(found, key=lambda r: (r.top, r.x0))
    return None


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 2 * _SLACK
