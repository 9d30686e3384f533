"""Dimension-line geometry of heavy pages, read with PDFium (pdfminer needs seconds for such a page).

Only what can matter is read: stroked straight paths that pass near a run holding a digit (a dimension line
runs beside its value, a leader ends at it), then the small paths at their ends (arrowheads, ticks). A 36 x 24 in
plot with 16,000 paths is walked once for bounds, and its points are read only for those few paths.
"""

from __future__ import annotations

import ctypes
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extraction_pipeline.extractors.pdf.dimension_lines import MAX_ARROW_STROKE, Arrowhead, Segment, arrowhead
from extraction_pipeline.extractors.schema import BBox

Point = tuple[float, float]
_CELL = 64.0
_NEAR_TEXT_HEIGHTS = 2.0


def pdfium_geometry(
    page: pdfium.PdfPage, to_display: Callable[[float, float], Point], near: list[BBox], glyphs: Sequence[BBox] = ()
) -> tuple[list[Segment], list[Arrowhead]]:
    """Stroked segments of paths near the ``near`` boxes, and the arrowheads and short strokes at their ends.

    Paths inside a ``glyphs`` box are the outlines of text OCR has read, not lines.
    """
    if not near:
        return [], []
    text_cells = _index(_grown(box) for box in near)
    glyph_cells: dict[tuple[int, int], list[BBox]] = defaultdict(list)
    for box in glyphs:
        for cell in _cells(box):
            glyph_cells[cell].append(box)
    lines, small = [], defaultdict(list)
    for obj in page.get_objects(max_depth=15):
        if obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        left, bottom, right, top = obj.get_bounds()
        (ax, ay), (bx, by) = to_display(left, bottom), to_display(right, top)
        box = (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))
        if any(_within(box, glyph) for glyph in glyph_cells.get(next(_cells(box)), ())):
            continue
        if max(box[2] - box[0], box[3] - box[1]) <= MAX_ARROW_STROKE:
            for cell in _cells(box):
                small[cell].append(obj)
        if any(cell in text_cells for cell in _cells(box)):
            lines.append(obj)
    segments = [s for obj in lines if _stroked(obj) for s in _segments(obj, to_display)]
    ends = {cell for s in segments for point in (s.a, s.b) for cell in _cells((*point, *point))}
    arrowheads, strokes = [], []
    for obj in {id(o): o for cell in ends for o in small.get(cell, ())}.values():
        if _filled(obj):
            head = arrowhead([p for subpath in _subpaths(obj, to_display) for p in subpath])
            if head is not None:
                arrowheads.append(head)
        elif _stroked(obj):
            strokes.extend(_segments(obj, to_display))
    return list(dict.fromkeys([*segments, *strokes])), arrowheads  # a short line near the text is both


def _within(box: BBox, outer: BBox, margin: float = 1.0) -> bool:
    return (
        outer[0] - margin <= box[0]
        and box[2] <= outer[2] + margin
        and outer[1] - margin <= box[1]
        and box[3] <= outer[3] + margin
    )


def _grown(box: BBox) -> BBox:
    margin = _NEAR_TEXT_HEIGHTS * max(box[3] - box[1], box[2] - box[0], 1.0)
    return (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)


def _cells(box: BBox) -> Iterator[tuple[int, int]]:
    for i in range(int(box[0] // _CELL), int(box[2] // _CELL) + 1):
        for j in range(int(box[1] // _CELL), int(box[3] // _CELL) + 1):
            yield i, j


def _index(boxes: Iterator[BBox]) -> set[tuple[int, int]]:
    return {cell for box in boxes for cell in _cells(box)}


def _draw_mode(obj: Any) -> tuple[int, bool]:
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDFPath_GetDrawMode(obj.raw, fill, stroke)
    return fill.value, bool(stroke.value)


def _filled(obj: Any) -> bool:
    return bool(_draw_mode(obj)[0]) and not _has_bezier(obj)


def _stroked(obj: Any) -> bool:
    fill, stroke = _draw_mode(obj)
    return stroke and not fill and not _has_bezier(obj)


def _has_bezier(obj: Any) -> bool:
    return any(
        pdfium_c.FPDFPathSegment_GetType(pdfium_c.FPDFPath_GetPathSegment(obj.raw, i)) == pdfium_c.FPDF_SEGMENT_BEZIERTO
        for i in range(pdfium_c.FPDFPath_CountSegments(obj.raw))
    )


def _segments(obj: Any, to_display: Callable[[float, float], Point]) -> list[Segment]:
    return [Segment(a, b) for subpath in _subpaths(obj, to_display) for a, b in itertools.pairwise(subpath) if a != b]


def _subpaths(obj: Any, to_display: Callable[[float, float], Point]) -> list[list[Point]]:
    """The path's points on the displayed page (its matrix and those of the forms holding it applied)."""
    matrices = []
    holder = obj
    while holder is not None and hasattr(holder, "get_matrix"):
        matrices.append(holder.get_matrix())
        holder = getattr(holder, "parent", None)
    x, y = pdfium_c.FS_FLOAT(), pdfium_c.FS_FLOAT()
    subpaths: list[list[Point]] = []
    for index in range(pdfium_c.FPDFPath_CountSegments(obj.raw)):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj.raw, index)
        pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
        point = (x.value, y.value)
        for matrix in matrices:
            point = matrix.on_point(*point)
        point = to_display(*point)
        if pdfium_c.FPDFPathSegment_GetType(segment) == pdfium_c.FPDF_SEGMENT_MOVETO or not subpaths:
            subpaths.append([point])
        else:
            subpaths[-1].append(point)
        if pdfium_c.FPDFPathSegment_GetClose(segment):
            subpaths[-1].append(subpaths[-1][0])
    return subpaths
