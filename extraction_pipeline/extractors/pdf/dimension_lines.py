"""Dimension lines and leaders drawn on a page: the geometric evidence that a number is a dimension.

A CAD dimension is a line ending in terminators (filled or open arrowheads, or the slanted ticks of
architectural drawings) with its value written beside it; a leader is a line with one terminator that points
at a feature, its text at the other end (``R5``, ``Ø6.6 THRU``). Schematic wires, table rules and part outlines
have no terminators, so pin numbers, counts and reference designators near them get no such evidence.

Everything here is in the page's reading frame (the objects of ``orientation.upright_view``'s page).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from extraction_pipeline.extractors.schema import BBox

Point = tuple[float, float]

TERMINATOR_MAX = 20.0
"""An arrowhead or tick is at most this long (pt): about 7 mm, larger than any drawing standard's arrows."""
_TOUCH = 1.5
"""Points this close (pt) touch."""
_PARALLEL_DEGREES = 8.0
_MAX_SHOULDER = 3 * TERMINATOR_MAX
_MIN_SHOULDER_BEND = 30.0
MAX_ARROW_STROKE = 1.5 * TERMINATOR_MAX
"""The sides of an open arrowhead can be longer than a filled one (Altium, KiCad plots: about 24 pt)."""
_MIN_ARROW_STROKE_DEGREES = 5.0
"""Open arrowheads drawn as two strokes can be narrow (SolidWorks: about 8.5 degrees each side)."""
_MIN_ALONG = 2 * TERMINATOR_MAX
"""A line with one terminator supports text along it when it is longer than this (a leader's shoulder is short)."""
_CELL = 64.0


@dataclass(frozen=True)
class Segment:
    a: Point
    b: Point

    @property
    def length(self) -> float:
        return math.dist(self.a, self.b)

    @property
    def angle(self) -> float:
        """Direction in degrees, 0 <= angle < 180."""
        return math.degrees(math.atan2(self.b[1] - self.a[1], self.b[0] - self.a[0])) % 180

    @property
    def bbox(self) -> BBox:
        return (
            min(self.a[0], self.b[0]),
            min(self.a[1], self.b[1]),
            max(self.a[0], self.b[0]),
            max(self.a[1], self.b[1]),
        )


@dataclass(frozen=True)
class DimensionLine:
    """A segment with a terminator at one end (a leader: ``free_end`` is where its text goes) or at both."""

    segment: Segment
    both_ends: bool
    free_end: Point | None = None


class DimensionLines:
    """The page's dimension lines and leaders, bucketed on a coarse grid for lookups near a run."""

    def __init__(self, lines: list[DimensionLine], strokes: list[Segment] | None = None) -> None:
        self.lines = lines
        self.strokes = strokes or []
        """Every straight stroke, terminated or not (ordinate dimensions have extension lines only)."""
        self._stroke_cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        for index, stroke in enumerate(self.strokes):
            for cell in _cells_of(stroke.bbox, margin=0.0):
                self._stroke_cells[cell].append(index)
        self._cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        for index, line in enumerate(lines):
            for cell in _cells_of(line.segment.bbox, margin=0.0):
                self._cells[cell].append(index)

    def near(self, bbox: BBox, margin: float) -> Iterator[DimensionLine]:
        seen: set[int] = set()
        for cell in _cells_of(bbox, margin):
            for index in self._cells.get(cell, ()):
                if index not in seen:
                    seen.add(index)
                    yield self.lines[index]

    def strokes_near(self, bbox: BBox) -> Iterator[Segment]:
        seen: set[int] = set()
        for cell in _cells_of(bbox, 0.0):
            for index in self._stroke_cells.get(cell, ()):
                if index not in seen:
                    seen.add(index)
                    yield self.strokes[index]

    def supports(self, bbox: BBox, upright: bool = True) -> bool:
        """Text at ``bbox`` is written along a dimension line (beside it or in a gap of it), or at a leader's free end.

        ``upright``: the text runs along the page's width (else along its height, as a vertical dimension's value).
        """
        height = max(bbox[3] - bbox[1] if upright else bbox[2] - bbox[0], 0.1)
        for line in self.near(bbox, 2 * height):
            # one terminator is enough along the line: a half dimension, or one split where a line crosses it
            if _along(bbox, line.segment, height, upright) and (line.both_ends or line.segment.length > _MIN_ALONG):
                return True
            if line.free_end is not None and _distance_to_box(line.free_end, bbox) <= 1.5 * height:
                return True
            if line.free_end is not None and _beyond_tip(bbox, line, height, upright):
                return True
        return _between_opposed_tips(bbox, list(self.near(bbox, _SMALL_GAP_HEIGHTS * height)), height)


def _cells_of(bbox: BBox, margin: float) -> Iterator[tuple[int, int]]:
    x0, top, x1, bottom = bbox
    for i in range(int((x0 - margin) // _CELL), int((x1 + margin) // _CELL) + 1):
        for j in range(int((top - margin) // _CELL), int((bottom + margin) // _CELL) + 1):
            yield i, j


def _along(text: BBox, segment: Segment, height: float, upright: bool) -> bool:
    """Parallel to the run's baseline, spanning its middle, at most ~one text height away."""
    if not _is_parallel(segment, upright):
        return False
    x0, top, x1, bottom = segment.bbox
    if upright:
        inside = x0 - 1 <= (text[0] + text[2]) / 2 <= x1 + 1
        gap = max(top - text[3], text[1] - bottom, 0.0)
    else:
        inside = top - 1 <= (text[1] + text[3]) / 2 <= bottom + 1
        gap = max(x0 - text[2], text[0] - x1, 0.0)
    return inside and gap <= 0.8 * height


def _beyond_tip(text: BBox, line: DimensionLine, height: float, upright: bool) -> bool:
    """Text right at the tip of an outside arrow, along its axis: a small dimension whose arrows point in from
    outside the extension lines and whose value sits between them (``3,5`` between two arrows)."""
    if not _is_parallel(line.segment, upright):
        return False
    tip, _ = _tip_and_tail(line)
    return _distance_to_box(tip, text) <= height


_SMALL_GAP_HEIGHTS = 5.0
"""Two arrow tips at most this many text heights apart are a small dimension's (its value fits between them)."""
_MAX_TIPS = 24


def _between_opposed_tips(text: BBox, lines: list[DimensionLine], height: float) -> bool:
    """Text across the middle of two arrow tips that point at each other from outside: a small dimension whose
    extension lines are too close for its arrows, its value written between them on the axis (a level ``6.14``
    between the open arrows of a vertical dimension)."""
    arrows: dict[tuple[float, float], tuple[Point, Point]] = {}
    for line in lines:
        if line.free_end is not None:
            tip, tail = _tip_and_tail(line)
            arrows.setdefault((round(tip[0], 1), round(tip[1], 1)), (tip, tail))  # an open arrow's strokes share it
    tips = list(arrows.values())[:_MAX_TIPS]
    for index, (one, one_tail) in enumerate(tips):
        for other, other_tail in tips[index + 1 :]:
            gap = math.dist(one, other)
            from_outside = math.dist(one_tail, other) > gap and math.dist(other_tail, one) > gap
            middle = ((one[0] + other[0]) / 2, (one[1] + other[1]) / 2)
            if height <= gap <= _SMALL_GAP_HEIGHTS * height and from_outside and _distance_to_box(middle, text) == 0:
                return True
    return False


def _tip_and_tail(line: DimensionLine) -> tuple[Point, Point]:
    """The terminated end of a leader (its tip) and the other end: the free end is where its text goes, on the
    segment or at the end of a shoulder bent off it."""
    a, b = line.segment.a, line.segment.b
    assert line.free_end is not None
    return (a, b) if math.dist(line.free_end, b) <= math.dist(line.free_end, a) else (b, a)


def _is_parallel(segment: Segment, upright: bool) -> bool:
    target = 0.0 if upright else 90.0
    return min(abs(segment.angle - target), 180 - abs(segment.angle - target)) <= _PARALLEL_DEGREES


def _distance_to_box(point: Point, bbox: BBox) -> float:
    x, y = point
    dx = max(bbox[0] - x, 0.0, x - bbox[2])
    dy = max(bbox[1] - y, 0.0, y - bbox[3])
    return math.hypot(dx, dy)


# ---------------------------------------------------------------------------------------------------
# Finding them among the page's vector objects
# ---------------------------------------------------------------------------------------------------


def find_dimension_lines(plumber_page: Any) -> DimensionLines:
    """Straight strokes with a terminator at one or both ends, among a pdfplumber page's lines and curves."""
    heads = [_arrowhead(curve) for curve in plumber_page.curves]
    segments = _segments(plumber_page)
    return dimension_lines_from(segments, [head for head in heads if head is not None], short_leaders=True)


def dimension_lines_from(
    segments: list[Segment], arrowheads: list[Arrowhead], *, short_leaders: bool = False
) -> DimensionLines:
    """Straight strokes with a terminator at one or both ends (from pdfplumber's objects or PDFium's paths).

    ``short_leaders``: also the short stems of small dimensions' outside arrows (``_short_leader``). Only on pages of
    ordinary weight: on a heavy page (thousands of hatch strokes and glyph outlines touching filled shapes) the
    candidates multiply and slowed a big scan 2.5-fold."""
    short_index = _PointIndex([s for s in segments if s.length <= MAX_ARROW_STROKE])
    shoulders = _PointIndex([s for s in segments if s.length <= _MAX_SHOULDER])
    head_index = _PointIndex([Segment(v, v) for head in arrowheads for v in head.vertices])
    heads_at = {v: head for head in arrowheads for v in head.vertices}
    found = []
    for segment in segments:
        if segment.length <= TERMINATOR_MAX:
            if short_leaders:
                found.extend(_short_leader(segment, head_index, heads_at, shoulders))
            continue
        ends = [_terminated(end, segment, head_index, heads_at, short_index) for end in (segment.a, segment.b)]
        if all(ends):
            found.append(DimensionLine(segment, both_ends=True))
        elif any(ends):
            free = segment.b if ends[0] else segment.a
            found.append(DimensionLine(segment, both_ends=False, free_end=_shoulder_end(free, segment, shoulders)))
    return DimensionLines(found, segments)


def _short_leader(
    segment: Segment, heads: _PointIndex, heads_at: dict[Point, Arrowhead], shoulders: _PointIndex
) -> list[DimensionLine]:
    """A stem no longer than an arrowhead's reach that carries a filled arrowhead at one end and runs on past its
    base: the outside arrow of a small dimension (``4.60`` between extension lines too close for its arrows),
    whose text sits at the end of the shoulder bent off the stem. A side of the arrowhead's own outline ends at its
    tip too, but no longer than the arrowhead."""
    for end, other in ((segment.a, segment.b), (segment.b, segment.a)):
        for vertex in heads.touching(end):
            head = heads_at[vertex.a]
            reach = max(math.dist(end, corner) for corner in head.vertices)
            if segment.length >= _STEM_PAST_HEAD * reach and _on_line_side(head.centroid, end, segment):
                return [DimensionLine(segment, both_ends=False, free_end=_shoulder_end(other, segment, shoulders))]
    return []


_STEM_PAST_HEAD = 1.25
"""A short stem is a leader when it is this many times as long as its arrowhead (the outline's own sides are not)."""


def _shoulder_end(free: Point, leader: Segment, shoulders: _PointIndex) -> Point:
    """Where a leader's text goes: the far end of the short shoulder bent off its free end, else the free end."""
    for shoulder in shoulders.touching(free):
        if shoulder != leader and _angle_between(shoulder, leader) >= _MIN_SHOULDER_BEND:
            return shoulder.b if math.dist(free, shoulder.a) <= _TOUCH else shoulder.a
    return free


def _segments(plumber_page: Any) -> list[Segment]:
    """Every straight piece of a stroked line or open polyline (rects are frames and cells, not dimensions)."""
    segments = []
    for obj in [*plumber_page.lines, *plumber_page.curves]:
        if obj.get("fill") or not obj.get("stroke", True):
            continue
        points = [tuple(p) for p in obj.get("pts", [])]
        if obj["object_type"] == "curve" and _has_bezier(obj):
            continue
        segments.extend(Segment(a, b) for a, b in itertools.pairwise(points) if math.dist(a, b) > 0.5)
    return segments


def _has_bezier(obj: dict[str, Any]) -> bool:
    return any(command[0] == "c" for command in obj.get("path", []) if command)


@dataclass(frozen=True)
class Arrowhead:
    vertices: tuple[Point, ...]
    centroid: Point


def arrowhead(points: list[Point]) -> Arrowhead | None:
    """The corners of a small filled path as an arrowhead: a triangle (or a quad drawn closed), not a dot."""
    vertices = tuple(dict.fromkeys((round(x, 2), round(y, 2)) for x, y in points))
    if not 3 <= len(vertices) <= 4:
        return None
    xs, ys = [v[0] for v in vertices], [v[1] for v in vertices]
    if max(max(xs) - min(xs), max(ys) - min(ys)) > TERMINATOR_MAX:
        return None
    return Arrowhead(vertices, (sum(xs) / len(xs), sum(ys) / len(ys)))


def _arrowhead(curve: dict[str, Any]) -> Arrowhead | None:
    """Dots are Bézier circles, so a filled path with a Bézier is no arrowhead."""
    if not curve.get("fill") or _has_bezier(curve):
        return None
    return arrowhead([tuple(p) for p in curve.get("pts", [])])


class _PointIndex:
    """Short segments by the grid cells of their end points."""

    def __init__(self, segments: list[Segment]) -> None:
        self._cells: dict[tuple[int, int], list[Segment]] = defaultdict(list)
        for segment in segments:
            for point in {segment.a, segment.b}:
                self._cells[(int(point[0] // _CELL), int(point[1] // _CELL))].append(segment)

    def touching(self, point: Point) -> Iterator[Segment]:
        i, j = int(point[0] // _CELL), int(point[1] // _CELL)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for segment in self._cells.get((i + di, j + dj), ()):
                    if min(math.dist(point, segment.a), math.dist(point, segment.b)) <= _TOUCH or _crosses(
                        segment, point
                    ):
                        yield segment


def _crosses(segment: Segment, point: Point) -> bool:
    """The point lies on the segment (a tick drawn through a line's end)."""
    length = segment.length
    if length == 0:
        return False
    (ax, ay), (bx, by) = segment.a, segment.b
    t = ((point[0] - ax) * (bx - ax) + (point[1] - ay) * (by - ay)) / (length * length)
    if not 0 <= t <= 1:
        return False
    foot = (ax + t * (bx - ax), ay + t * (by - ay))
    return math.dist(foot, point) <= _TOUCH


def _terminated(
    end: Point, segment: Segment, heads: _PointIndex, heads_at: dict[Point, Arrowhead], short: _PointIndex
) -> bool:
    """A filled arrowhead with its tip on the end and its body along the line, two open-arrow strokes, or a tick."""
    for vertex in heads.touching(end):
        if _on_line_side(heads_at[vertex.a].centroid, end, segment):
            return True
    strokes = [s for s in short.touching(end) if s != segment]
    slanted = [s for s in strokes if _MIN_ARROW_STROKE_DEGREES <= _angle_between(s, segment) <= 70]
    return len(slanted) >= 2 or any(_crosses(s, end) and 30 <= _angle_between(s, segment) <= 60 for s in slanted)


def _on_line_side(point: Point, end: Point, segment: Segment) -> bool:
    """The arrowhead's body lies along the line from its end (inward for inside arrows, outward for outside ones)."""
    other = segment.b if end == segment.a else segment.a
    direction = (other[0] - end[0], other[1] - end[1])
    offset = (point[0] - end[0], point[1] - end[1])
    length = math.hypot(*direction) or 1.0
    across = abs(direction[0] * offset[1] - direction[1] * offset[0]) / length
    return across <= max(math.hypot(*offset) * 0.5, _TOUCH)


def _angle_between(first: Segment, second: Segment) -> float:
    difference = abs(first.angle - second.angle) % 180
    return min(difference, 180 - difference)
