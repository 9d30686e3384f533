"""Ruled cells of a title block: where a label's value is when both sit in a grid of ruled cells.

CAD drawing templates (SolidWorks, Inventor, AutoCAD ISO/ANSI) print a tiny label in the top-left corner of a
cell and the value centred in the same cell, well right of the label; label|value grids put the value in the
next cell to the right (``DRAWN | J. DOE | 2024-02-03``) or in the cell under the label cell. The cells come from
the page's ruling lines, so a value is never taken from a neighbouring field's cell by distance alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from extraction_pipeline.extractors.pdf.model import Page, Rules, Run

_SLACK = 1.5
"""A rule this close (pt) to a run's edge still bounds it (text drawn touching its cell border)."""
_LABEL_ROW_SHARE = 0.4
"""A label this tall for its cell fills it: its value may be over it (a row of labels under a row of values); a
label in a cell's corner names the cell's own content."""
_BEYOND = 2 * _SLACK + 0.5
"""How far past a cell's border a point is surely in the next cell (not on rules that end at that border)."""


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


def value_in_cells(
    page: Page,
    label: Run,
    runs: list[Run],
    is_value: Callable[[Run], bool],
    is_label: Callable[[Run], bool] = lambda run: False,
) -> Run | None:
    """The label's value: after it in its own cell (right of it on its line, or under it), else in the next cell to
    the right, the cell below, or the cell above (templates that print labels under their values: SolidWorks'
    ``1 | AW 2030`` over ``Quant. | Material``).

    A value printed in pieces on one line of its cell (``1`` ``/`` drawn as a line ``2``) is those pieces joined.
    A neighbouring cell holding a label (``is_label``) is that label's: none of its runs is this label's value.
    None when the label is not in a ruled cell, or those cells hold no value (``is_value``).
    """
    own = cell_of(page.rules, label.center_x, label.center_y)
    if own is None:
        return None
    after_label = [r for r in runs if r is not label and own.holds(r) and _after(label, r) and is_value(r)]
    if after_label:
        return _line_of(min(after_label, key=lambda r: (r.top, r.x0)), after_label)
    right = cell_of(page.rules, own.right + _SLACK, label.center_y)
    below = cell_of(page.rules, label.center_x, own.bottom + _BEYOND)
    above = cell_of(page.rules, label.center_x, own.top - _BEYOND)
    fills = label.height >= _LABEL_ROW_SHARE * (own.bottom - own.top)  # a cell of a row of labels, not a corner label
    for neighbour, aligned in (
        (right, right is not None and _near(right.top, own.top) and _near(right.bottom, own.bottom)),
        (below, below is not None and _near(below.left, own.left) and _near(below.right, own.right)),
        (above, above is not None and _near(above.left, own.left) and _near(above.right, own.right) and fills),
    ):
        if neighbour is None or not aligned:  # a pair shares its row (value right) or its column (value below)
            continue
        held = [r for r in runs if r is not label and neighbour.holds(r)]
        if any(is_label(r) for r in held):  # a labelled cell's value is its own label's
            continue
        found = [r for r in held if is_value(r)]
        if found:
            return _line_of(min(found, key=lambda r: (r.top, r.x0)), found)
    return None


def _after(label: Run, run: Run) -> bool:
    """Under the label, or right of it on its line."""
    if run.top >= label.bottom - 1 or run.center_y >= label.bottom:
        return True
    return run.x0 >= label.x1 - 1 and run.top < label.bottom and run.bottom > label.top


def _line_of(first: Run, candidates: list[Run]) -> Run:
    """``first`` with the candidates on its line right of it, as one run."""
    line = sorted(
        (
            r
            for r in candidates
            if r is first or (r.x0 >= first.x1 - 1 and abs(r.center_y - first.center_y) <= first.height / 2)
        ),
        key=lambda r: r.x0,
    )
    if len(line) == 1:
        return first
    return replace(
        first,
        text=" ".join(r.text.strip() for r in line),
        x1=max(r.x1 for r in line),
        top=min(r.top for r in line),
        bottom=max(r.bottom for r in line),
        spaced=None,
    )


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 2 * _SLACK
