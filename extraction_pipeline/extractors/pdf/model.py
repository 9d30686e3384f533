"""The PDF extractor's working types: a page, its runs of text, its ruling lines, the tables found on it.

All coordinates are PDF points with the top-left origin of the displayed (rotation-applied) page.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from extraction_pipeline.extractors.pdf.dense_grids import DenseGrid
from extraction_pipeline.extractors.pdf.dimension_lines import DimensionLines
from extraction_pipeline.extractors.pdf.orientation import Turn
from extraction_pipeline.extractors.schema import BBox

HEAVY_PAGE_PATHS = 3000
"""Pages with more vector paths than this get their text from PDFium and no table search (speed)."""
LINE_TOLERANCE = 3.0
"""Words (and runs) whose bottoms differ by at most this much (pt) sit on one line."""
THIN_TEXT_MIN_PATHS = 1000
THIN_TEXT_CHARS_PER_PATH = 0.05

# ---------------------------------------------------------------------------------------------------
# Small geometry types
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A piece of text on one line with no wide gap or ruling line inside it."""

    text: str
    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    font_size: float | None = None
    bold: bool = False
    spaced: str | None = None
    """The text with each wide gap between words (two spaces' worth or more) written as two spaces; None when
    the run has no wide gap or its gaps are unknown (PDFium runs). Only the title block reads it."""
    source: str | None = None
    """"ocr" for a line read by OCR (see ``pdf/ocr.py``); None for the text layer."""
    confidence: float | None = None
    rotation: float | None = None
    """OCR: reading direction on the displayed page, degrees counter-clockwise."""
    polygon: tuple[tuple[float, float], ...] | None = None
    """OCR: the corners of a rotated line on the displayed page."""

    @property
    def bbox(self) -> BBox:
        return (round(self.x0, 2), round(self.top, 2), round(self.x1, 2), round(self.bottom, 2))

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)

    @property
    def center_y(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def center_x(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(frozen=True)
class Edge:
    """A ruling line: horizontal edges have top == bottom, vertical ones x0 == x1."""

    x0: float
    top: float
    x1: float
    bottom: float


class Rules:
    """The page's horizontal and vertical ruling lines, sorted for range queries."""

    def __init__(self, horizontal: list[Edge] | None = None, vertical: list[Edge] | None = None) -> None:
        self.horizontal = sorted(horizontal or [], key=lambda e: e.top)
        self.vertical = sorted(vertical or [], key=lambda e: e.x0)
        self._tops = [e.top for e in self.horizontal]
        self._xs = [e.x0 for e in self.vertical]

    def vertical_between(self, x_left: float, x_right: float, top: float, bottom: float) -> bool:
        """A vertical rule strictly between two x positions that spans the text height."""
        for edge in self.vertical[bisect.bisect_right(self._xs, x_left) :]:
            if edge.x0 >= x_right:
                return False
            if edge.top <= top + 1 and edge.bottom >= bottom - 1:
                return True
        return False

    def horizontal_between(self, y_top: float, y_bottom: float, x0: float, x1: float) -> bool:
        """A horizontal rule strictly between two y positions that overlaps [x0, x1]."""
        for edge in self.horizontal[bisect.bisect_right(self._tops, y_top) :]:
            if edge.top >= y_bottom:
                return False
            if edge.x0 < x1 and edge.x1 > x0:
                return True
        return False


@dataclass
class FoundTable:
    page: int
    bbox: BBox
    rows: list[list[str]]
    bold_rows: set[int] = field(default_factory=set)
    title: str | None = None
    """A caption printed in the table's top cell above its header words (``SIGMA Escandall 2016``)."""


@dataclass
class PageObjects:
    chars: int = 0
    text_objects: int = 0
    paths: int = 0
    lines: int = 0
    rects: int = 0
    curves: int = 0
    polylines: int = 0
    images: int = 0


@dataclass
class Page:
    """A page as the stages see it: ``width``/``height`` and every bbox are in its reading frame (``turn``)."""

    number: int
    width: float
    height: float
    rotation: int
    objects: PageObjects
    turn: Turn | None = None
    """The quarter turn from the displayed page to the frame its text reads left to right in (None: no turn)."""
    runs: list[Run] = field(default_factory=list)
    rules: Rules = field(default_factory=Rules)
    tables: list[FoundTable] = field(default_factory=list)
    text_from_pdfium: bool = False
    text_from_ocr: bool = False
    dense_grids: list[DenseGrid] = field(default_factory=list)
    """Groups of ruling lines too dense for the table search (left out of it)."""
    dimension_lines: DimensionLines | None = None
    """Dimension lines and leaders drawn on the page (None: its vector objects were not read)."""
    glyph_regions: list[BBox] = field(default_factory=list)
    """Where a page with a text layer has text drawn as glyph paths (displayed page points): OCR reads these."""

    @property
    def heavy(self) -> bool:
        return self.objects.paths > HEAVY_PAGE_PATHS

    @property
    def display_size(self) -> tuple[float, float]:
        return (self.turn.width, self.turn.height) if self.turn else (self.width, self.height)

    def read_turned(self, turn: Turn | None) -> None:
        """From now on the stages work in the turned frame (text reading left to right)."""
        self.turn = turn
        if turn is not None:
            self.width, self.height = turn.reading_size


def inside(run: Run, bbox: BBox, margin: float = 1.0) -> bool:
    x0, top, x1, bottom = bbox
    return x0 - margin <= run.center_x <= x1 + margin and top - margin <= run.center_y <= bottom + margin


def union(boxes: Iterable[BBox]) -> BBox:
    boxes = list(boxes)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def bbox_area(bbox: Sequence[float]) -> float:
    return max(bbox[2] - bbox[0], 0) * max(bbox[3] - bbox[1], 0)


def rounded(bbox: Sequence[float]) -> BBox:
    return (round(bbox[0], 2), round(bbox[1], 2), round(bbox[2], 2), round(bbox[3], 2))


def page_ranges(numbers: Sequence[int]) -> str:
    """[1, 2, 3, 5] -> '1-3, 5'."""
    parts: list[str] = []
    start = previous = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ", ".join(parts)
