"""Ordinate dimensions: values written at the free ends of extension lines, measured from a shared ``0`` datum.

CAD ordinate dimensioning draws no dimension lines and no arrowheads: each value sits at the end of a thin
extension line, the values of one axis stand in a row or column beside a ``0`` at the datum, and (the drawing
being to scale) each value is proportional to its line's distance from the datum's line. That proportion is
the evidence: a column of numbers in a table, pin numbers along a connector or a parts list's quantities have
no lines starting at their side, and their values do not grow with their distance from a ``0`` at one common
scale. A value may follow a short note on its line (``Fans 19.00``): the number next to the line counts.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from extraction_pipeline.extractors.pdf.dimension_lines import DimensionLines, Segment
from extraction_pipeline.extractors.pdf.model import Run

_LAST_NUMBER = re.compile(r"(?:^|\s)(\d+(?:[.,]\d+)?)$")
_FIRST_NUMBER = re.compile(r"^(\d+(?:[.,]\d+)?)(?:\s|$)")
_STRAIGHT_DEGREES = 3.0
_ALIGNED = 1.5
"""Values of one axis are aligned on the side of their extension lines to this many points."""
_MIN_FAMILY = 2
"""Values besides the ``0`` that must share one scale: two points and the datum fix a proportion by chance rarely."""
_SCALE_SLACK = 0.03
"""A value may differ from its scaled distance by this fraction (rounding of the printed value) ..."""
_PLACEMENT_SLACK = 1.0
"""... plus this many points of the line's placement."""


@dataclass(frozen=True)
class _Mark:
    """A run with a number at the end of an extension line: ``position`` is the line's offset along the axis the
    values are measured on, ``column`` where the values stand in their row or column."""

    run: Run
    number: str
    value: float
    position: float
    side: str
    edge: float


def ordinate_values(runs: Iterable[Run], lines: DimensionLines | None) -> dict[Run, str]:
    """The runs that hold ordinate dimensions (the ``0`` datum included), each with its value as written."""
    if lines is None or not lines.strokes:
        return {}
    marks = [mark for run in runs for mark in _marks(run, lines)]
    found: dict[Run, str] = {}
    for side in ("left", "right"):
        for family in _columns(sorted((m for m in marks if m.side == side), key=lambda m: m.edge)):
            found.update((mark.run, mark.number) for mark in _consistent(family))
    return found


def _columns(marks: list[_Mark]) -> list[list[_Mark]]:
    """Marks whose text edges line up (each within ``_ALIGNED`` of the next, sorted by edge)."""
    columns: list[list[_Mark]] = []
    for mark in marks:
        if columns and mark.edge - columns[-1][-1].edge <= _ALIGNED:
            columns[-1].append(mark)
        else:
            columns.append([mark])
    return columns


def _marks(run: Run, lines: DimensionLines) -> list[_Mark]:
    """The run as the value of an extension line leaving it on its right (last number) or left (first number);
    upright text only, its line horizontal."""
    height = run.height
    marks = []
    middle = (run.top + run.bottom) / 2
    for side, pattern, edge in (("right", _LAST_NUMBER, run.x1), ("left", _FIRST_NUMBER, run.x0)):
        match = pattern.search(run.text.strip())
        if match is None:
            continue
        line = _line_leaving(lines, edge, middle, height, outward=1 if side == "right" else -1)
        if line is not None:
            number = match.group(1)
            marks.append(_Mark(run, number, float(number.replace(",", ".")), (line.a[1] + line.b[1]) / 2, side, edge))
    return marks


def _line_leaving(lines: DimensionLines, edge: float, middle: float, height: float, outward: int) -> Segment | None:
    """A horizontal stroke at the text's mid-height starting just beside ``edge`` and running away from the text
    (a table's rules run along a row's top or bottom, or through its full width)."""
    box = (edge - 2 * height, middle - height, edge + 2 * height, middle + height)
    for segment in lines.strokes_near(box):
        if not _horizontal(segment) or abs(segment.a[1] - middle) > 0.35 * height:
            continue
        near, far = sorted((segment.a[0], segment.b[0]), key=lambda x: outward * x)
        if -1.0 <= outward * (near - edge) <= 1.5 * height and outward * (far - near) >= 2 * height:
            return segment
    return None


def _horizontal(segment: Segment) -> bool:
    return min(segment.angle, 180 - segment.angle) <= _STRAIGHT_DEGREES


def _consistent(family: list[_Mark]) -> list[_Mark]:
    """The ``0`` and the values proportional to their distance from it at one scale, when enough agree."""
    datums = [mark for mark in family if mark.value == 0]
    if len(datums) != 1:
        return []
    datum = datums[0]
    measured = [
        (mark, mark.value / abs(mark.position - datum.position))
        for mark in family
        if mark.value > 0 and abs(mark.position - datum.position) >= mark.run.height / 2
    ]
    if len(measured) < _MIN_FAMILY:
        return []
    scale = statistics.median(ratio for _, ratio in measured)
    agreeing = [
        mark
        for mark, _ in measured
        if abs(mark.value - scale * abs(mark.position - datum.position))
        <= _SCALE_SLACK * mark.value + scale * _PLACEMENT_SLACK
    ]
    if len(agreeing) < _MIN_FAMILY:
        return []
    return [*agreeing, datum]
