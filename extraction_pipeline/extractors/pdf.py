"""PDF drawings: text blocks with positions, ruled and unruled tables, title block, BOM and annotations.

Two libraries, each where it is strong:

- **PDFium** (``pypdfium2``, C++) opens the file (a password, a damaged or truncated file becomes
  ``CorruptFileError``), counts each page's objects (characters, lines, rectangles, curves, polylines,
  images) and reads the text of pages whose vector content is too large for pdfminer. It takes well
  under a second on a 36 x 24 in plot with 16,000 vector paths.
- **pdfplumber** (pdfminer, pure Python) gives words with font sizes, ruling edges and ruled tables on
  pages that have a text layer and at most ``HEAVY_PAGE_PATHS`` vector paths. pdfminer needs ~6 s for
  a single 16,000-path plot, so heavier pages get their text from PDFium and no table search (the result
  says so in a warning). Pages without any text are never handed to pdfplumber: there is nothing to read.
  Ruled tables are not searched on pages with more than ``MAX_RULE_CROSSINGS`` crossings of ruling lines
  either: pdfplumber's table finder needs 10 s for a 100 x 100 grid.

What comes out (all bboxes in PDF points, top-left origin of the displayed, rotation-applied page,
pages numbered from 1):

- ``text_blocks``: words grouped into runs (same baseline, no wide gap and no ruling line between) and
  runs into blocks (stacked lines of the same size with nothing ruled between them);
- ``tables``: ruled tables from pdfplumber (a drawing frame, which pdfplumber sees as one huge table, is
  dropped; a table drawn as separately bordered cells with gutters between them, which pdfplumber sees as
  one grid per column or per cell, is stitched back into one) and unruled ones found from runs that align
  in >= 2 columns over >= 3 evenly spaced rows with no horizontal rule between them (pdfplumber's "text"
  strategy merges a whole drawing sheet into one table, so it is not used). A header row is detected (no
  digits, distinct cells, plus a known header word, a bold row over a regular body, or a column that is
  numeric below it); otherwise the columns are named ``col_1..n`` and every row is data;
- ``title_block``: labels (DRAWING NO, TITLE, REV, DATE, SCALE, MATERIAL, DRAWN BY, SHEET, COMPANY,
  FINISH, ...) on any page, written as ``LABEL: value``, as a label cell with the value below it or to
  its right, or (bottom-right quarter only) as ``LABEL value``. A run holding several fields
  (``DRAWING NO: BM-0000   REV: B   SCALE: 1:2``) is cut before each later label with a colon, and before an
  unknown label or a colon-less ``LABEL value`` after a wide gap (two spaces' worth); values keep their own
  colons and label words (``SCALE: 1:2``, ``TITLE: REV A BRACKET``), see ``title_fields.py``. The page with the
  most labels wins; fields it lacks are filled from other pages. Unknown labels inside the title block area go
  to ``custom_fields``; ``metadata["title_block_page"]`` says where it was found;
- ``dimensions``/``threads``/``surface_finishes``/``gdt``: ``annotations.parse_annotations`` over every
  run, with the run's page and bbox. Bare numbers inside tables or the title block are dropped (they are
  quantities, coordinates and revision numbers, not dimensions). The default unit is ``in`` when a note
  says dimensions are in inches, else ``mm``;
- ``bom``: rows of the tables whose headers have a quantity column and an item, part or description
  column (tables with the same headers on several pages are joined);
- ``metadata``: ``page_count``, ``pages_extracted``, ``page_sizes``, ``document_info`` (producer,
  creator, title, ...), ``pdf_version``, ``has_text_layer``, ``pages_without_text``, ``objects_per_page``
  and ``object_totals`` (chars = non-blank characters of the text layer), ``pages_text_from_pdfium``,
  ``default_unit``;
- ``warnings``: pages without a text layer (vector-only or scanned: OCR is not run), pages with a thin
  text layer under thousands of vector paths, pages too heavy for the table search.

Options:

- ``pages``: page selection such as ``"1-3"``, ``"2"``, ``"1,3,5-7"``, an int or a list of ints
  (1-based; numbers past the last page are ignored);
- ``max_pages``: at most this many of the selected pages (the first ones) are extracted.

A selection that names no existing page raises ``ConfigurationError``.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfminer.psexceptions import PSException
from pdfplumber.table import Table as PlumberTable
from pdfplumber.table import TableFinder
from pdfplumber.utils import cluster_objects, extract_text
from pdfplumber.utils.exceptions import PdfminerException

from extraction_pipeline.errors import ConfigurationError, CorruptFileError
from extraction_pipeline.extractors.annotations import parse_annotations
from extraction_pipeline.extractors.schema import (
    BBox,
    Bom,
    ExtractionResult,
    FileFormat,
    SourceInfo,
    Table,
    TextBlock,
    TitleBlock,
)
from extraction_pipeline.extractors.title_fields import FieldSplitter, TitleField

VERSION = "1.0.0"

HEAVY_PAGE_PATHS = 3000
"""Pages with more vector paths than this get their text from PDFium and no table search (speed)."""
MAX_RULE_CROSSINGS = 2000
"""pdfplumber's table finder grows much faster than the crossings of ruling lines (a 50 x 50 grid: 1 s,
100 x 100: 10 s, 200 x 200: 135 s); over this many crossings (a grid or hatching) ruled tables are not searched."""
THIN_TEXT_MIN_PATHS = 1000
THIN_TEXT_CHARS_PER_PATH = 0.05

# ---------------------------------------------------------------------------------------------------
# Small geometry types
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
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
class _Edge:
    """A ruling line: horizontal edges have top == bottom, vertical ones x0 == x1."""

    x0: float
    top: float
    x1: float
    bottom: float


class _Rules:
    """The page's horizontal and vertical ruling lines, sorted for range queries."""

    def __init__(self, horizontal: list[_Edge] | None = None, vertical: list[_Edge] | None = None) -> None:
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

    def crossings(self, limit: int, tolerance: float = 3.0) -> int:
        """How many horizontal/vertical rule pairs cross (or nearly touch), counting no further than ``limit``."""
        count = 0
        for edge in self.vertical:
            low = bisect.bisect_left(self._tops, edge.top - tolerance)
            high = bisect.bisect_right(self._tops, edge.bottom + tolerance)
            for horizontal in self.horizontal[low:high]:
                if horizontal.x0 - tolerance <= edge.x0 <= horizontal.x1 + tolerance:
                    count += 1
                    if count > limit:
                        return count
        return count

    def horizontal_between(self, y_top: float, y_bottom: float, x0: float, x1: float) -> bool:
        """A horizontal rule strictly between two y positions that overlaps [x0, x1]."""
        for edge in self.horizontal[bisect.bisect_right(self._tops, y_top) :]:
            if edge.top >= y_bottom:
                return False
            if edge.x0 < x1 and edge.x1 > x0:
                return True
        return False


@dataclass
class _FoundTable:
    page: int
    bbox: BBox
    rows: list[list[str]]
    bold_rows: set[int] = field(default_factory=set)


@dataclass
class _PageObjects:
    chars: int = 0
    text_objects: int = 0
    paths: int = 0
    lines: int = 0
    rects: int = 0
    curves: int = 0
    polylines: int = 0
    images: int = 0


@dataclass
class _Page:
    number: int
    width: float
    height: float
    rotation: int
    objects: _PageObjects
    runs: list[_Run] = field(default_factory=list)
    rules: _Rules = field(default_factory=_Rules)
    tables: list[_FoundTable] = field(default_factory=list)
    text_from_pdfium: bool = False
    rule_crossings_over_limit: bool = False

    @property
    def heavy(self) -> bool:
        return self.objects.paths > HEAVY_PAGE_PATHS


def _inside(run: _Run, bbox: BBox, margin: float = 1.0) -> bool:
    x0, top, x1, bottom = bbox
    return x0 - margin <= run.center_x <= x1 + margin and top - margin <= run.center_y <= bottom + margin


def _union(boxes: Iterable[BBox]) -> BBox:
    boxes = list(boxes)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


# ---------------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------------


def extract(path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    with _open_pdfium(path, source) as document:
        page_count = len(document)
        if page_count == 0:
            raise CorruptFileError(f"{source.filename} is a PDF without any page")
        selected, selection_warnings = _selected_pages(options, page_count)
        pages = [_read_page_with_pdfium(document, number, source.filename) for number in selected]
        info = _document_info(document)
        pdf_version = document.get_version()
    light_text_pages = [page for page in pages if page.objects.chars and not page.heavy]
    if light_text_pages:
        _read_pages_with_pdfplumber(path, source, light_text_pages)
    for page in pages:
        if not page.heavy:
            page.tables.extend(_unruled_tables(page))
    return _build_result(source, pages, page_count, info, pdf_version, selection_warnings)


def _build_result(
    source: SourceInfo,
    pages: list[_Page],
    page_count: int,
    info: dict[str, str],
    pdf_version: int | None,
    selection_warnings: list[str],
) -> ExtractionResult:
    title_tables = [t for page in pages for t in page.tables if _is_title_block_table(t)]
    data_tables = [t for page in pages for t in page.tables if not _is_title_block_table(t)]
    tables = [_to_table(t) for t in data_tables]
    title_block, title_block_page, title_area = _find_title_block(pages, data_tables)
    default_unit = _default_unit(pages)
    result = ExtractionResult(
        format=FileFormat.PDF,
        extractor_version=VERSION,
        source=source,
        text_blocks=[block for page in pages for block in _text_blocks(page)],
        tables=tables,
        title_block=title_block,
        bom=_find_bom(tables),
        warnings=_page_warnings(pages) + selection_warnings,
        metadata=_metadata(pages, page_count, info, pdf_version, default_unit, title_block_page),
    )
    quiet_areas = {(t.page, t.bbox) for t in [*data_tables, *title_tables]}
    if title_area is not None:
        quiet_areas.add(title_area)
    _add_annotations(result, pages, quiet_areas, default_unit)
    return result


# ---------------------------------------------------------------------------------------------------
# Opening and page selection
# ---------------------------------------------------------------------------------------------------


@contextmanager
def _open_pdfium(path: Path, source: SourceInfo) -> Iterator[pdfium.PdfDocument]:
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise CorruptFileError(_pdfium_error_message(source.filename, str(exc))) from exc
    try:
        yield document
    finally:
        document.close()


def _pdfium_error_message(filename: str, detail: str) -> str:
    if "password" in detail.lower():
        return f"{filename} is password-protected (encrypted); remove the password and upload it again"
    return f"{filename} is not a readable PDF (damaged, truncated or not a PDF at all): {detail}"


_PAGE_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def _selected_pages(options: Mapping[str, Any], page_count: int) -> tuple[list[int], list[str]]:
    """1-based page numbers chosen by the ``pages`` and ``max_pages`` options."""
    requested = _parse_page_option(options.get("pages"), page_count)
    pages = [number for number in requested if 1 <= number <= page_count]
    if not pages:
        raise ConfigurationError(f"option pages={options.get('pages')!r} selects no page of this {page_count}-page PDF")
    warnings = []
    max_pages = options.get("max_pages")
    if max_pages is not None:
        if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
            raise ConfigurationError(f"option max_pages must be a positive integer, not {max_pages!r}")
        if len(pages) > max_pages:
            warnings.append(
                f"max_pages={max_pages}: extracted {_ranges(pages[:max_pages])} of {len(pages)} selected page(s)"
            )
            pages = pages[:max_pages]
    return pages, warnings


def _parse_page_option(value: Any, page_count: int) -> list[int]:
    if value is None:
        return list(range(1, page_count + 1))
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return sorted(set(value))
    if isinstance(value, str):
        numbers: set[int] = set()
        for part in value.split(","):
            match = _PAGE_RANGE.match(part)
            if not match:
                raise ConfigurationError(f"option pages={value!r} is not a page range such as '1-3' or '1,3,5-7'")
            first, last = int(match[1]), int(match[2] or match[1])
            numbers.update(range(first, min(last, page_count) + 1))
        return sorted(numbers)
    raise ConfigurationError(f"option pages={value!r} is not a page range such as '1-3' or '1,3,5-7'")


def _ranges(numbers: Sequence[int]) -> str:
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


# ---------------------------------------------------------------------------------------------------
# PDFium: inventory of each page, and text of heavy pages
# ---------------------------------------------------------------------------------------------------


def _read_page_with_pdfium(document: pdfium.PdfDocument, number: int, filename: str) -> _Page:
    try:
        return _pdfium_page(document, number)
    except pdfium.PdfiumError as exc:
        raise CorruptFileError(f"{filename}: page {number} cannot be read ({exc})") from exc


def _pdfium_page(document: pdfium.PdfDocument, number: int) -> _Page:
    page = document[number - 1]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            objects = _count_objects(page, textpage)
            result = _Page(number, width, height, page.get_rotation(), objects)
            if objects.chars and result.heavy:
                result.runs = _pdfium_runs(page, textpage, number)
                result.text_from_pdfium = True
        finally:
            textpage.close()
    finally:
        page.close()
    return result


def _count_objects(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> _PageObjects:
    counts = _PageObjects()
    text = textpage.get_text_range()
    counts.chars = sum(1 for ch in text if not ch.isspace())
    for obj in page.get_objects(max_depth=15):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
            counts.text_objects += 1
        elif obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            counts.images += 1
        elif obj.type == pdfium_c.FPDF_PAGEOBJ_PATH:
            counts.paths += 1
            kind = _path_kind(obj.raw)
            setattr(counts, kind, getattr(counts, kind) + 1)
    return counts


def _path_kind(path_handle: Any) -> str:
    """'lines' (one straight segment), 'rects' (axis-aligned closed quad), 'curves' (any Bézier) or 'polylines'."""
    segments = [
        pdfium_c.FPDFPath_GetPathSegment(path_handle, i) for i in range(pdfium_c.FPDFPath_CountSegments(path_handle))
    ]
    kinds = [pdfium_c.FPDFPathSegment_GetType(s) for s in segments]
    if pdfium_c.FPDF_SEGMENT_BEZIERTO in kinds:
        return "curves"
    if len(segments) == 2:
        return "lines"
    if 4 <= len(segments) <= 5 and kinds.count(pdfium_c.FPDF_SEGMENT_MOVETO) == 1 and _is_axis_aligned_quad(segments):
        return "rects"
    return "polylines"


def _is_axis_aligned_quad(segments: list[Any]) -> bool:
    x, y = pdfium_c.FS_FLOAT(), pdfium_c.FS_FLOAT()
    points = []
    for segment in segments:
        pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
        points.append((round(x.value, 2), round(y.value, 2)))
    if len(points) == 5 and points[-1] != points[0]:
        return False
    corners = points[:4]
    return len({p[0] for p in corners}) == 2 and len({p[1] for p in corners}) == 2


def _pdfium_runs(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, number: int) -> list[_Run]:
    """PDFium's own text segments (a line of one text object), mapped to top-left displayed coordinates."""
    to_display = _display_transform(page)
    runs = []
    for index in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(index)
        text = " ".join(textpage.get_text_bounded(left, bottom, right, top).split())
        if not text:
            continue
        (ax, ay), (bx, by) = to_display(left, bottom), to_display(right, top)
        char_index = pdfium_c.FPDFText_GetCharIndexAtPos(
            textpage.raw, (left + right) / 2, (bottom + top) / 2, right - left, top - bottom
        )
        font_size = _pdfium_font_size(textpage, char_index) if char_index >= 0 else None
        runs.append(
            _Run(
                text,
                number,
                min(ax, bx),
                min(ay, by),
                max(ax, bx),
                max(ay, by),
                round(font_size, 2) if font_size else None,
            )
        )
    return runs


def _pdfium_font_size(textpage: pdfium.PdfTextPage, char_index: int) -> float:
    """Tf size times the scale of the character's matrix: the size a reader sees (pdfplumber's ``size``)."""
    matrix = pdfium_c.FS_MATRIX()
    pdfium_c.FPDFText_GetMatrix(textpage.raw, char_index, matrix)
    scale = math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c)) or 1.0
    return pdfium_c.FPDFText_GetFontSize(textpage.raw, char_index) * scale


def _display_transform(page: pdfium.PdfPage) -> Any:
    """PDF user space -> top-left origin of the page as displayed (rotation applied), as pdfplumber reports."""
    left, bottom, right, top = page.get_bbox()  # effective crop box (inherited boxes included)
    rotation = page.get_rotation() % 360
    if rotation == 90:
        return lambda x, y: (y - bottom, x - left)
    if rotation == 180:
        return lambda x, y: (right - x, y - bottom)
    if rotation == 270:
        return lambda x, y: (top - y, right - x)
    return lambda x, y: (x - left, top - y)


def _document_info(document: pdfium.PdfDocument) -> dict[str, str]:
    return {key.lower(): value for key, value in document.get_metadata_dict(skip_empty=True).items()}


# ---------------------------------------------------------------------------------------------------
# pdfplumber: words, ruling edges and ruled tables of light pages with text
# ---------------------------------------------------------------------------------------------------

_PDFMINER_ERRORS = (PdfminerException, PSException)


def _read_pages_with_pdfplumber(path: Path, source: SourceInfo, pages: list[_Page]) -> None:
    try:
        with pdfplumber.open(path) as pdf:
            for page in pages:
                plumber_page = pdf.pages[page.number - 1]
                _read_plumber_page(plumber_page, page)
                plumber_page.close()
    except _PDFMINER_ERRORS as exc:
        raise CorruptFileError(f"{source.filename} could not be parsed as a PDF: {exc or type(exc).__name__}") from exc


def _read_plumber_page(plumber_page: Any, page: _Page) -> None:
    page.rules = _rules(plumber_page.edges)
    words = plumber_page.extract_words(extra_attrs=["size", "fontname"])
    page.runs = _runs_from_words(words, page.number, page.rules)
    page.tables = _ruled_tables(plumber_page, page)


_AXIS_TOLERANCE = 0.5


def _rules(edges: list[dict[str, Any]]) -> _Rules:
    """Axis-parallel ruling lines only (pdfplumber also labels slanted lines as "v" edges)."""
    horizontal, vertical = [], []
    for edge in edges:
        as_edge = _Edge(edge["x0"], edge["top"], edge["x1"], edge["bottom"])
        if abs(edge["bottom"] - edge["top"]) <= _AXIS_TOLERANCE:
            horizontal.append(as_edge)
        elif abs(edge["x1"] - edge["x0"]) <= _AXIS_TOLERANCE:
            vertical.append(as_edge)
    return _Rules(horizontal, vertical)


_LINE_TOLERANCE = 3.0
_RUN_GAP_EM = 1.0


def _runs_from_words(words: list[dict[str, Any]], number: int, rules: _Rules) -> list[_Run]:
    """Words on one baseline form a run until a gap wider than 1 em or a vertical ruling line."""
    runs: list[_Run] = []
    upright = [w for w in words if w.get("upright", True)]
    rotated = [w for w in words if not w.get("upright", True)]
    for line in cluster_objects(upright, "bottom", _LINE_TOLERANCE):
        line.sort(key=lambda w: w["x0"])
        current = [line[0]]
        for word in line[1:]:
            previous = current[-1]
            em = max(previous["size"], word["size"])
            gap = word["x0"] - previous["x1"]
            split = gap > _RUN_GAP_EM * em or rules.vertical_between(
                previous["x1"],
                word["x0"],
                min(previous["top"], word["top"]),
                max(previous["bottom"], word["bottom"]),
            )
            if split:
                runs.append(_run_from_words(current, number))
                current = [word]
            else:
                current.append(word)
        runs.append(_run_from_words(current, number))
    runs.extend(_run_from_words([word], number) for word in rotated)  # vertical text: a word is a run
    runs.sort(key=lambda r: (r.top, r.x0))
    return runs


def _run_from_words(words: list[dict[str, Any]], number: int) -> _Run:
    sizes = [w["size"] for w in words]
    bold_chars = sum(len(w["text"]) for w in words if "bold" in w["fontname"].lower())
    return _Run(
        text=" ".join(w["text"] for w in words),
        page=number,
        x0=min(w["x0"] for w in words),
        top=min(w["top"] for w in words),
        x1=max(w["x1"] for w in words),
        bottom=max(w["bottom"] for w in words),
        font_size=round(statistics.median(sizes), 2),
        bold=bold_chars * 2 > sum(len(w["text"]) for w in words),
        spaced=_spaced_text(words),
    )


_WIDE_GAP_RATIO = 1.8
_WIDE_GAP_EM = 0.45


def _spaced_text(words: list[dict[str, Any]]) -> str | None:
    """The words with wide gaps written as two spaces, or None when no gap is wide.

    The narrowest gap of the run is taken as one space (font independent: a monospaced space is 0.6 em, a
    Helvetica one 0.28 em); a gap is wide at ``_WIDE_GAP_RATIO`` times that and at least ``_WIDE_GAP_EM`` em. A run
    of two words (one gap) has nothing to compare with and no wide gap.
    """
    pairs = list(itertools.pairwise(words))
    if len(pairs) < 2:
        return None
    narrowest = max(min(b["x0"] - a["x1"] for a, b in pairs), 0.0)
    wide = [
        b["x0"] - a["x1"] >= max(_WIDE_GAP_RATIO * narrowest, _WIDE_GAP_EM * max(a["size"], b["size"]))
        for a, b in pairs
    ]
    if not any(wide):
        return None
    parts = [words[0]["text"]]
    for word, is_wide in zip(words[1:], wide, strict=True):
        parts.append("  " if is_wide else " ")
        parts.append(word["text"])
    return "".join(parts)


_FRAME_CELL_SHARE = 0.25
_STITCH_TOLERANCE = 3.0
"""Row/column boundaries of neighbouring grids that differ by at most this much (pt) line up (pdfplumber's snap)."""
_STITCH_GAP_ROWS = 1.0
"""Grids that line up are one table when the gutter between them is at most this many (median) row heights."""


@dataclass
class _Grid:
    """A ruled table before cleanup: cell texts by row, and the x/y boundaries of its columns/rows."""

    bbox: tuple[float, float, float, float]
    rows: list[list[str]]
    bold_rows: set[int]
    row_edges: list[float]  # the top of every row, then the bottom of the last one
    column_edges: list[float]  # the left of every column, then the right of the last one
    row_height: float = field(init=False)

    def __post_init__(self) -> None:
        self.row_height = statistics.median(b - a for a, b in itertools.pairwise(self.row_edges))


def _ruled_tables(plumber_page: Any, page: _Page) -> list[_FoundTable]:
    """pdfplumber's ruled tables, with neighbouring grids that line up stitched together.

    A table drawn as separately bordered cells with a gutter between them (``cell(..., border=1)`` at a pitch
    wider than the cell) reaches pdfplumber as one grid per column, or as lone cells (which pdfplumber drops):
    those are joined again. Cell text comes from the page's characters sorted once by height, not from
    ``Table.extract`` (which scans every character of the page once per row of every table: most of the time
    on a page with a table).
    """
    if page.rules.crossings(MAX_RULE_CROSSINGS) > MAX_RULE_CROSSINGS:
        page.rule_crossings_over_limit = True
        return []
    page_area = page.width * page.height
    finder = TableFinder(plumber_page, {"vertical_strategy": "lines", "horizontal_strategy": "lines"})
    grouped = {cell for table in finder.tables for cell in table.cells}
    tables = [
        table
        for table in [*finder.tables, *(PlumberTable(plumber_page, [c]) for c in finder.cells if c not in grouped)]
        if not any(_area(cell) > _FRAME_CELL_SHARE * page_area for cell in table.cells)  # the drawing frame
    ]
    if not tables:
        return []
    chars_per_cell = _chars_per_cell(plumber_page.chars, (cell for table in tables for cell in table.cells))
    grids = _stitched([_grid(table, chars_per_cell) for table in tables])
    found = []
    for grid in grids:
        rows, bold_rows = _drop_empty_rows_and_columns(grid.rows, grid.bold_rows)
        if len(rows) >= 2 and len(rows[0]) >= 2 and sum(1 for row in rows for cell in row if cell) >= 2:
            found.append(_FoundTable(page.number, _rounded(grid.bbox), rows, bold_rows))
    return found


_Cell = tuple[float, float, float, float]


def _chars_per_cell(chars: list[dict[str, Any]], cells: Iterable[_Cell]) -> dict[_Cell, list[dict[str, Any]]]:
    """The characters whose centre lies in each cell (half-open, as pdfplumber's ``Table.extract``), in page order.

    Characters are sorted by height once, so each cell only looks at the characters of its own rows.
    """
    centres = sorted(
        ((char["top"] + char["bottom"]) / 2, (char["x0"] + char["x1"]) / 2, index) for index, char in enumerate(chars)
    )
    v_mids = [centre[0] for centre in centres]
    found: dict[_Cell, list[dict[str, Any]]] = {}
    for cell in cells:
        x0, top, x1, bottom = cell
        band = centres[bisect.bisect_left(v_mids, top) : bisect.bisect_left(v_mids, bottom)]
        found[cell] = [chars[index] for index in sorted(index for _, h_mid, index in band if x0 <= h_mid < x1)]
    return found


def _grid(table: Any, chars_per_cell: dict[_Cell, list[dict[str, Any]]]) -> _Grid:
    rows, bold_rows = [], set()
    for index, row in enumerate(table.rows):
        cells = [chars_per_cell.get(cell, []) if cell is not None else [] for cell in row.cells]
        rows.append([_cell_text(extract_text(chars)) if chars else "" for chars in cells])
        written = [chars for chars in cells if any(not char["text"].isspace() for char in chars)]
        if written and all(_mostly_bold(chars) for chars in written):
            bold_rows.add(index)
    x0, top, x1, bottom = table.bbox
    return _Grid(
        (x0, top, x1, bottom),
        rows,
        bold_rows,
        [*sorted({cell[1] for cell in table.cells}), bottom],
        [*sorted({cell[0] for cell in table.cells}), x1],
    )


def _mostly_bold(chars: list[dict[str, Any]]) -> bool:
    written = [char for char in chars if not char["text"].isspace()]
    return sum(1 for char in written if "bold" in char["fontname"].lower()) * 2 > len(written)


def _stitched(grids: list[_Grid]) -> list[_Grid]:
    """Join grids side by side with the same rows, then grids stacked with the same columns, until none is left."""
    while True:
        count = len(grids)
        grids = _stitch_pass(_stitch_pass(grids, across=True), across=False)
        if len(grids) == count:
            return grids


def _stitch_pass(grids: list[_Grid], *, across: bool) -> list[_Grid]:
    joined: list[_Grid] = []
    for grid in sorted(grids, key=lambda g: (g.bbox[0], g.bbox[1]) if across else (g.bbox[1], g.bbox[0])):
        for index, before in enumerate(joined):
            if _continues(before, grid, across=across):
                joined[index] = _join(before, grid, across=across)
                break
        else:
            joined.append(grid)
    return joined


def _continues(first: _Grid, second: _Grid, *, across: bool) -> bool:
    """``second`` carries on ``first`` to its right (or below it): the same rows (columns), a narrow gutter."""
    gap = second.bbox[0] - first.bbox[2] if across else second.bbox[1] - first.bbox[3]
    if not -_STITCH_TOLERANCE <= gap <= _STITCH_GAP_ROWS * min(first.row_height, second.row_height):
        return False
    edges = (first.row_edges, second.row_edges) if across else (first.column_edges, second.column_edges)
    if len(edges[0]) != len(edges[1]) or any(abs(a - b) > _STITCH_TOLERANCE for a, b in zip(*edges, strict=True)):
        return False
    return first.rows[0] != second.rows[0]  # the same first row twice: a list carried on in a second block


def _join(first: _Grid, second: _Grid, *, across: bool) -> _Grid:
    bbox = _union([first.bbox, second.bbox])
    if across:
        return _Grid(
            bbox,
            [a + b for a, b in zip(first.rows, second.rows, strict=True)],
            first.bold_rows & second.bold_rows,
            first.row_edges,
            [*first.column_edges[:-1], *second.column_edges],
        )
    return _Grid(
        bbox,
        first.rows + second.rows,
        first.bold_rows | {index + len(first.rows) for index in second.bold_rows},
        [*first.row_edges[:-1], *second.row_edges],
        first.column_edges,
    )


def _area(bbox: Sequence[float]) -> float:
    return max(bbox[2] - bbox[0], 0) * max(bbox[3] - bbox[1], 0)


def _rounded(bbox: Sequence[float]) -> BBox:
    return (round(bbox[0], 2), round(bbox[1], 2), round(bbox[2], 2), round(bbox[3], 2))


def _cell_text(cell: str | None) -> str:
    return " ".join((cell or "").split())


def _drop_empty_rows_and_columns(rows: list[list[str]], bold_rows: set[int]) -> tuple[list[list[str]], set[int]]:
    """pdfplumber adds empty columns at every grid line of merged cells; keep only columns with text."""
    keep_rows = [i for i, row in enumerate(rows) if any(row)]
    width = max((len(row) for row in rows), default=0)
    keep_columns = [c for c in range(width) if any(c < len(row) and row[c] for row in rows)]
    cleaned = [[rows[i][c] if c < len(rows[i]) else "" for c in keep_columns] for i in keep_rows]
    return cleaned, {new for new, old in enumerate(keep_rows) if old in bold_rows}


# ---------------------------------------------------------------------------------------------------
# Unruled tables: runs aligned in columns over evenly spaced rows, no rule between them
# ---------------------------------------------------------------------------------------------------

_MIN_UNRULED_ROWS = 3
_MAX_ROW_PITCH_HEIGHTS = 2.6
_PITCH_VARIATION = 1.6


def _unruled_tables(page: _Page) -> list[_FoundTable]:
    taken = [t.bbox for t in page.tables]
    free = [r for r in page.runs if not any(_inside(r, box) for box in taken)]
    lines = _lines_of_runs(free)
    tables = []
    start = 0
    while start < len(lines):
        end, columns = _grow_unruled(page, lines, start)
        if end - start >= _MIN_UNRULED_ROWS and len(columns) >= 2:
            tables.append(_unruled_table(page.number, lines[start:end], columns))
            start = end
        else:
            start += 1
    return tables


def _lines_of_runs(runs: list[_Run]) -> list[list[_Run]]:
    lines = cluster_objects(runs, lambda r: r.bottom, _LINE_TOLERANCE)
    for line in lines:
        line.sort(key=lambda r: r.x0)
    return sorted(lines, key=lambda line: line[0].top)


def _grow_unruled(page: _Page, lines: list[list[_Run]], start: int) -> tuple[int, list[tuple[float, float]]]:
    """Extend a table from ``lines[start]`` while rows keep the columns and the spacing; returns (end, columns)."""
    if len(lines[start]) < 2:
        return start + 1, []
    columns = _columns([lines[start]])
    pitch: float | None = None
    end = start + 1
    while end < len(lines) and len(lines[end]) >= 2:
        previous, line = lines[end - 1], lines[end]
        step = line[0].bottom - previous[0].bottom
        height = max(r.height for r in [*previous, *line])
        if step > _MAX_ROW_PITCH_HEIGHTS * height or (
            pitch and not pitch / _PITCH_VARIATION <= step <= pitch * _PITCH_VARIATION
        ):
            break
        span = (min(r.x0 for r in [*previous, *line]), max(r.x1 for r in [*previous, *line]))
        if page.rules.horizontal_between(max(r.bottom for r in previous), min(r.top for r in line), *span):
            break
        candidate = _columns(lines[start : end + 1])
        if not _one_run_per_column(lines[start : end + 1], candidate) or len(candidate) < len(columns):
            break
        columns, pitch, end = candidate, pitch or step, end + 1
    return end, columns


def _columns(lines: list[list[_Run]]) -> list[tuple[float, float]]:
    """x-intervals covered by the runs of all lines, merged where they overlap."""
    spans = sorted((r.x0, r.x1) for line in lines for r in line)
    merged: list[tuple[float, float]] = []
    for x0, x1 in spans:
        if merged and x0 <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], x1))
        else:
            merged.append((x0, x1))
    return merged


def _column_of(run: _Run, columns: list[tuple[float, float]]) -> int:
    return next(i for i, (x0, x1) in enumerate(columns) if x0 <= run.center_x <= x1)


def _one_run_per_column(lines: list[list[_Run]], columns: list[tuple[float, float]]) -> bool:
    for line in lines:
        used = [_column_of(run, columns) for run in line]
        if len(used) != len(set(used)):
            return False
    return True


def _unruled_table(number: int, lines: list[list[_Run]], columns: list[tuple[float, float]]) -> _FoundTable:
    rows = []
    for line in lines:
        row = [""] * len(columns)
        for run in line:
            row[_column_of(run, columns)] = run.text
        rows.append(row)
    bbox = _union(run.bbox for line in lines for run in line)
    bold_rows = {i for i, line in enumerate(lines) if all(run.bold for run in line)}
    return _FoundTable(number, _rounded(bbox), rows, bold_rows)


# ---------------------------------------------------------------------------------------------------
# Table headers and BOM
# ---------------------------------------------------------------------------------------------------

_HEADER_WORDS = {
    "ITEM", "ITEM NO", "POS", "POSITION", "FIND NO", "NO", "PART", "PART NO", "PART NUMBER", "PN", "P/N",
    "DESCRIPTION", "DESC", "NAME", "TITLE", "QTY", "QUANTITY", "QTY REQD", "PCS", "MATERIAL", "MATL", "MASS",
    "WEIGHT", "UNIT", "UOM", "REMARKS", "NOTES", "NOTE", "REV", "REVISION", "DATE", "BY", "APPROVED", "ECO",
    "ZONE", "HOLE", "HOLE NO", "X", "Y", "Z", "SIZE", "DIA", "DEPTH", "TAG", "TYPE", "VENDOR", "SUPPLIER",
    "STOCK NO", "DRAWING NO", "DWG NO", "LENGTH", "WIDTH", "HEIGHT", "FINISH", "THREAD", "SPEC",
}  # fmt: skip
_BOM_QUANTITY = {"QTY", "QUANTITY", "QTY REQD", "QTY REQ", "QUAN", "PCS", "NO OFF", "NO REQD", "AMOUNT", "COUNT"}
_BOM_IDENTITY = {
    "ITEM", "ITEM NO", "POS", "POSITION", "FIND NO", "PART", "PART NO", "PART NUMBER", "PN", "P/N", "STOCK NO",
    "DRAWING NO", "DWG NO", "DESCRIPTION", "DESC", "NAME", "PART NAME", "DESIGNATION", "TITLE",
}  # fmt: skip
_DIGIT = re.compile(r"\d")


def _header_key(text: str) -> str:
    text = text.upper().replace(".", " ").replace("'", "").replace("#", " NO ").replace(":", " ")
    text = re.sub(r"\b(?:NUMBER|NBR|NR)\b", "NO", text)
    return " ".join(text.split())


def _header_index(table: _FoundTable) -> int | None:
    """Row 0 (or, with known header words only, the last row as in bottom-up parts lists), else None."""
    rows = table.rows
    if len(rows) < 2:
        return None
    if _looks_like_header(rows, 0, table.bold_rows):
        return 0
    last = len(rows) - 1
    if _header_words_in(rows[last]) and _looks_like_header(rows, last, set()):
        return last
    return None


def _header_words_in(row: list[str]) -> int:
    return sum(1 for cell in row if _header_key(cell) in _HEADER_WORDS)


def _looks_like_header(rows: list[list[str]], index: int, bold_rows: set[int]) -> bool:
    row = rows[index]
    cells = [c for c in row if c]
    if len(cells) < max(2, len(row) // 2) or len(set(cells)) != len(cells) or any(_DIGIT.search(c) for c in cells):
        return False
    body = [r for i, r in enumerate(rows) if i != index]
    bold_over_regular = index in bold_rows and not all(i in bold_rows for i in range(len(rows)))
    return bold_over_regular or _header_words_in(row) > 0 or _numeric_column_below(row, body)


def _numeric_column_below(header: list[str], body: list[list[str]]) -> bool:
    """Some column has a word on top and only numbers below it."""
    for column, name in enumerate(header):
        values = [r[column] for r in body if column < len(r) and r[column]]
        if name and values and all(_DIGIT.search(v) for v in values):
            return True
    return False


def _to_table(found: _FoundTable) -> Table:
    index = _header_index(found)
    columns = len(found.rows[0])
    if index is None:
        headers = [f"col_{i}" for i in range(1, columns + 1)]
        rows = found.rows
    else:
        headers = found.rows[index]
        headers = [h or f"col_{i}" for i, h in enumerate(headers, start=1)]
        rows = [row for i, row in enumerate(found.rows) if i != index]
    return Table(headers=headers, rows=rows, page=found.page, bbox=found.bbox, num_rows=len(rows), num_columns=columns)


def _find_bom(tables: list[Table]) -> Bom | None:
    boms = [t for t in tables if _is_bom_header(t.headers)]
    if not boms:
        return None
    headers = boms[0].headers
    items = [
        dict(zip(headers, row, strict=True))
        for table in boms
        if table.headers == headers
        for row in table.rows
        if any(row) and row != headers
    ]
    return Bom(headers=headers, items=items, total_items=len(items))


def _is_bom_header(headers: list[str]) -> bool:
    keys = {_header_key(h) for h in headers}
    return bool(keys & _BOM_QUANTITY) and bool(keys & _BOM_IDENTITY)


# ---------------------------------------------------------------------------------------------------
# Title block
# ---------------------------------------------------------------------------------------------------

_TITLE_FIELDS: dict[str, tuple[str, ...]] = {
    "drawing_number": ("DRAWING NO", "DWG NO", "DRAWING", "DWG", "PART NO", "DOCUMENT NO", "DOC NO", "DRAWING ID"),
    "title": ("TITLE", "DRAWING TITLE", "PART NAME", "DESCRIPTION"),
    "revision": ("REVISION", "REV NO", "REV LEVEL", "REV"),
    "date": ("DATE", "DRAWN DATE", "DATE DRAWN", "ISSUE DATE"),
    "author": ("DRAWN BY", "DRAWN", "DRN BY", "DRN", "DRAFTER", "DESIGNED BY", "DESIGNER", "AUTHOR", "CREATED BY"),
    "company": ("COMPANY", "COMPANY NAME", "ORGANIZATION", "ORGANISATION", "FIRM"),
    "scale": ("SCALE",),
    "sheet": ("SHEET", "SHEET NO", "SHT", "SHT NO"),
    "material": ("MATERIAL", "MATL", "MAT"),
    "finish": ("FINISH", "SURFACE FINISH", "SURFACE TREATMENT", "TREATMENT", "COATING"),
}
_OTHER_TITLE_LABELS = (
    "CHECKED BY", "CHECKED", "APPROVED BY", "APPROVED", "ENGINEER", "CLIENT", "CUSTOMER", "PROJECT NO",
    "JOB NO", "CAGE CODE", "SIZE", "WEIGHT", "MASS", "TOLERANCES", "UNITS",
)  # fmt: skip
_CUSTOM = "custom"


def _label_pattern(alias: str) -> str:
    words = [r"(?:NO|NUMBER|NR|\#)" if w == "NO" else re.escape(w) for w in alias.split()]
    return r"[\s.']*".join(words) + r"\.?"


_LABELS: list[tuple[str, str, re.Pattern[str], re.Pattern[str], re.Pattern[str]]] = sorted(
    (
        (
            field_name,
            alias,
            re.compile(rf"(?i){_label_pattern(alias)}\s*:?\s*"),  # the whole run is the label
            re.compile(rf"(?i){_label_pattern(alias)}\s*:\s*(?P<value>\S.*)"),  # LABEL: value
            re.compile(rf"(?i){_label_pattern(alias)}\s+(?P<value>[^\s:].*)"),  # LABEL value
        )
        for field_name, aliases in [*_TITLE_FIELDS.items(), (_CUSTOM, _OTHER_TITLE_LABELS)]
        for alias in aliases
    ),
    key=lambda entry: len(entry[1]),
    reverse=True,
)
_UNKNOWN_COLON_LABEL = re.compile(r"(?P<label>[A-Za-z][A-Za-z .'/&-]{0,28}[A-Za-z.])\s*:\s*(?P<value>\S.*)")
_LABEL_LIKE = re.compile(r"[A-Z][A-Z .'/&-]{0,28}[A-Z.]?")
_STRONG, _WEAK = 2, 1
_LABEL_SIZE_RATIO = 1.2


@dataclass(frozen=True)
class _Hit:
    field_name: str  # a TitleBlock field, or _CUSTOM
    label: str
    value: str
    strength: int
    runs: tuple[_Run, ...]


_ANY_LABEL_START = re.compile("(?i)(?:" + "|".join(_label_pattern(entry[1]) for entry in _LABELS) + ")")


def _name_label(label: str, known: bool) -> tuple[str, str]:
    """(field, custom_fields key) of a label of a multi-label run: a known label by its alias (``_LABELS``)."""
    field_name, alias = (_label_of(label) if known else None) or (_CUSTOM, label)
    return field_name, _custom_key(alias)


_FIELD_SPLITTER = FieldSplitter(
    (_label_pattern(entry[1]) for entry in _LABELS),  # the longest alias first (``_LABELS`` is sorted so)
    _name_label,
    line_break_is_gap=False,  # a run is one line; its wide gaps are written as two spaces (``_Run.spaced``)
)


@functools.lru_cache(maxsize=4096)
def _split_fields(text: str) -> tuple[TitleField, ...] | None:
    """The fields of a run holding several labels (``DRAWING NO: BM-0000   REV: B   SCALE: 1:2``), else None.

    Cut by the rules of ``title_fields``; an unknown label, or a known one that is no TitleBlock field, is named
    ``_CUSTOM``.
    """
    return _FIELD_SPLITTER.split(text)


@functools.lru_cache(maxsize=4096)
def _label_of(text: str) -> tuple[str, str] | None:
    """(field, alias) when the whole text is a known label."""
    if not _ANY_LABEL_START.match(text.strip()):
        return None
    for field_name, alias, whole, _, _ in _LABELS:
        if whole.fullmatch(text.strip()):
            return field_name, alias
    return None


def _find_title_block(
    pages: list[_Page], data_tables: list[_FoundTable]
) -> tuple[TitleBlock | None, int | None, tuple[int, BBox] | None]:
    hits_per_page = {page.number: _title_hits(page, data_tables) for page in pages}
    known = {n: [h for h in hits if h.field_name != _CUSTOM] for n, hits in hits_per_page.items()}
    best_page = max(known, key=lambda n: (len({h.field_name for h in known[n]}), -n), default=None)
    if best_page is None or not known[best_page]:
        return None, None, None
    by_number = {p.number: p for p in pages}
    page = by_number[best_page]
    area = _union(run.bbox for hit in hits_per_page[best_page] for run in hit.runs)
    fields: dict[str, str] = {}
    for number in [best_page, *sorted(n for n in known if n != best_page)]:
        ranked = sorted(known[number], key=lambda h: (-h.strength, -_corner_score(by_number[number], h.runs[0])))
        for hit in ranked:
            fields.setdefault(hit.field_name, hit.value)
    custom = {h.label: h.value for h in hits_per_page[best_page] if h.field_name == _CUSTOM}
    custom.update(_unknown_labels_in_area(page, area, hits_per_page[best_page], data_tables))
    return TitleBlock(**fields, custom_fields=custom), best_page, (best_page, area)


def _corner_score(page: _Page, run: _Run) -> float:
    """Closer to the bottom-right corner (where title blocks live) scores higher."""
    return run.center_x / page.width + run.center_y / page.height


def _in_bottom_right(page: _Page, run: _Run) -> bool:
    return run.center_x > page.width / 2 and run.center_y > page.height / 2


def _candidate_runs(page: _Page, data_tables: list[_FoundTable]) -> list[_Run]:
    """Runs outside data tables (a BOM's PART NO or a revision table's DATE are not title labels)."""
    boxes = [t.bbox for t in data_tables if t.page == page.number]
    return [run for run in page.runs if not any(_inside(run, box) for box in boxes)]


def _title_hits(page: _Page, data_tables: list[_FoundTable]) -> list[_Hit]:
    runs = _candidate_runs(page, data_tables)
    hits = []
    for run in runs:
        label = _label_of(run.text)
        if label is not None:
            value_run = _value_below(page, run, runs) or _value_right(run, runs)
            if value_run is not None:
                hits.append(_Hit(label[0], _custom_key(label[1]), value_run.text, _STRONG, (run, value_run)))
            continue
        fields = _split_fields(_spaced(run))
        if fields is not None:
            hits.extend(_field_hits(page, run, fields))
            continue
        hit = _inline_hit(page, run)
        if hit is not None:
            hits.append(hit)
    return hits


def _spaced(run: _Run) -> str:
    return run.spaced or run.text


def _field_hits(page: _Page, run: _Run, fields: tuple[TitleField, ...]) -> list[_Hit]:
    """The fields of a multi-label run, as ``_inline_hit`` takes one: ``LABEL value`` only in the bottom-right.

    Unknown labels count only beside a known one (otherwise the run is left to ``_unknown_labels_in_area``).
    """
    if not any(f.known for f in fields):
        return []
    hits = []
    for f in fields:
        if f.colon:
            hits.append(_Hit(f.field, f.label, f.value, _STRONG, (run,)))
        elif _in_bottom_right(page, run):
            hits.append(_Hit(f.field, f.label, f.value, _WEAK, (run,)))
    return hits


def _inline_hit(page: _Page, run: _Run) -> _Hit | None:
    """``LABEL: value`` anywhere; ``LABEL value`` only in the bottom-right quarter and only without a colon label."""
    text = run.text.strip()
    if not _ANY_LABEL_START.match(text):
        return None
    for field_name, alias, _, with_colon, _ in _LABELS:
        match = with_colon.fullmatch(text)
        if match is not None:
            return _Hit(field_name, _custom_key(alias), match["value"].strip(), _STRONG, (run,))
    if _UNKNOWN_COLON_LABEL.fullmatch(text) or not _in_bottom_right(page, run):
        return None
    for field_name, alias, _, _, with_space in _LABELS:
        match = with_space.fullmatch(text)
        if match is not None:
            return _Hit(field_name, _custom_key(alias), match["value"].strip(), _WEAK, (run,))
    return None


def _custom_key(label: str) -> str:
    return " ".join(label.upper().rstrip(":").split())


def _is_labelled(run: _Run) -> bool:
    """A label on its own or ``LABEL: value``: not the value of a neighbouring label."""
    text = run.text.strip()
    return (
        _label_of(text) is not None
        or _UNKNOWN_COLON_LABEL.fullmatch(text) is not None
        or _split_fields(_spaced(run)) is not None
    )


def _value_below(page: _Page, label: _Run, runs: list[_Run]) -> _Run | None:
    """The nearest run just under the label, starting within its width, with no rule in between."""
    candidates = [
        r
        for r in runs
        if r is not label
        and r.top >= label.bottom - 1
        and r.top - label.bottom <= 2 * max(label.height, r.height)
        and label.x0 - 3 * label.height <= r.x0 <= label.x1
        and not _is_labelled(r)
        and not page.rules.horizontal_between(label.bottom - 0.5, r.top + 0.5, r.x0, r.x1)
    ]
    return min(candidates, key=lambda r: r.top - label.bottom, default=None)


def _value_right(label: _Run, runs: list[_Run]) -> _Run | None:
    """The nearest run on the same line to the right (label cell | value cell)."""
    candidates = [
        r
        for r in runs
        if r is not label
        and abs(r.center_y - label.center_y) <= label.height / 2
        and 0 <= r.x0 - label.x1 <= 15 * label.height
        and not _is_labelled(r)
    ]
    return min(candidates, key=lambda r: r.x0 - label.x1, default=None)


def _unknown_labels_in_area(
    page: _Page, area: BBox, hits: list[_Hit], data_tables: list[_FoundTable]
) -> dict[str, str]:
    """Labels we do not know, inside the title block: ``LABEL: value`` or a small label over a larger value."""
    used = {id(run) for hit in hits for run in hit.runs}
    runs = [r for r in _candidate_runs(page, data_tables) if _inside(r, area, margin=2.0)]
    custom = {}
    for run in runs:
        if id(run) in used:
            continue
        fields = _split_fields(_spaced(run))
        if fields is not None:
            custom.update((f.label, f.value) for f in fields if f.field == _CUSTOM)
            continue
        colon = _UNKNOWN_COLON_LABEL.fullmatch(run.text.strip())
        if colon is not None:
            custom[_custom_key(colon["label"])] = colon["value"].strip()
            continue
        if not _LABEL_LIKE.fullmatch(run.text.strip()) or len(run.text.split()) > 4:
            continue
        value = _value_below(page, run, runs)
        if value is not None and id(value) not in used and _smaller_than(run, value):
            custom[_custom_key(run.text)] = value.text
            used.add(id(value))
    return custom


def _smaller_than(label: _Run, value: _Run) -> bool:
    """Title blocks print labels in a smaller font than the values they name."""
    if label.font_size is None or value.font_size is None:
        return False
    return value.font_size >= _LABEL_SIZE_RATIO * label.font_size


def _is_title_block_table(table: _FoundTable) -> bool:
    """A ruled grid with >= 2 cells holding a label *and* its value ("TITLE MOUNTING BRACKET") is the title block.

    Cells that are only a label (a revision table's REV | DESCRIPTION | DATE header) do not count.
    """
    labelled = sum(1 for row in table.rows for cell in row if _is_label_and_value(cell))
    return labelled >= 2 and not _is_bom_header(table.rows[0])


def _is_label_and_value(cell: str) -> bool:
    words = cell.replace(":", " ").split()
    return any(_label_of(" ".join(words[:n])) for n in range(1, min(len(words) - 1, 3) + 1))


# ---------------------------------------------------------------------------------------------------
# Text blocks and annotations
# ---------------------------------------------------------------------------------------------------

_BLOCK_GAP_HEIGHTS = 0.6
_BLOCK_SIZE_RATIO = 1.25


def _text_blocks(page: _Page) -> list[TextBlock]:
    blocks = _group_runs(page)
    return [
        TextBlock(
            text="\n".join(run.text for run in block),
            page=page.number,
            bbox=_rounded(_union(run.bbox for run in block)),
            font_size=block[0].font_size,
        )
        for block in blocks
    ]


def _group_runs(page: _Page) -> list[list[_Run]]:
    """Stack runs into blocks: next line close below, overlapping in x, same size, no rule between."""
    runs = sorted(page.runs, key=lambda r: (r.top, r.x0))
    parent = list(range(len(runs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, upper in enumerate(runs):
        for j in range(i + 1, len(runs)):
            lower = runs[j]
            if lower.top > upper.bottom + _BLOCK_GAP_HEIGHTS * upper.height:
                break
            if _stacks(page, upper, lower):
                parent[root(j)] = root(i)
    groups: dict[int, list[_Run]] = {}
    for i, run in enumerate(runs):
        groups.setdefault(root(i), []).append(run)
    return list(groups.values())


def _stacks(page: _Page, upper: _Run, lower: _Run) -> bool:
    if lower.top < upper.bottom - 0.5 * upper.height:  # same line, not a line below
        return False
    if lower.x0 >= upper.x1 or lower.x1 <= upper.x0:
        return False
    sizes = (upper.font_size or upper.height, lower.font_size or lower.height)
    if max(sizes) > _BLOCK_SIZE_RATIO * min(sizes):
        return False
    span = (max(upper.x0, lower.x0), min(upper.x1, lower.x1))
    return not page.rules.horizontal_between(upper.bottom - 0.5, lower.top + 0.5, *span)


_INCH_NOTE = re.compile(r"(?i)\b(?:dimensions|dims|units)\b[^.]{0,30}?\b(?:inch|inches)\b")


def _default_unit(pages: list[_Page]) -> str:
    return "in" if any(_INCH_NOTE.search(run.text) for page in pages for run in page.runs) else "mm"


def _add_annotations(
    result: ExtractionResult, pages: list[_Page], quiet_areas: set[tuple[int, BBox]], default_unit: str
) -> None:
    for page in pages:
        quiet = [box for number, box in quiet_areas if number == page.number]
        for run in page.runs:
            found = parse_annotations(run.text, default_unit=default_unit, page=page.number, bbox=run.bbox)
            in_quiet_area = any(_inside(run, box) for box in quiet)
            result.dimensions.extend(d for d in found.dimensions if not (in_quiet_area and d.confidence < 1.0))
            result.threads.extend(found.threads)
            result.surface_finishes.extend(found.surface_finishes)
            result.gdt.extend(found.gdt)


# ---------------------------------------------------------------------------------------------------
# Metadata and warnings
# ---------------------------------------------------------------------------------------------------


def _metadata(
    pages: list[_Page],
    page_count: int,
    info: dict[str, str],
    pdf_version: int | None,
    default_unit: str,
    title_block_page: int | None,
) -> dict[str, Any]:
    per_page = [{"page": p.number, **_object_counts(p.objects)} for p in pages]
    totals = {key: sum(row[key] for row in per_page) for key in _object_counts(_PageObjects())}
    return {
        "page_count": page_count,
        "pages_extracted": [p.number for p in pages],
        "page_sizes": [
            {"page": p.number, "width": round(p.width, 2), "height": round(p.height, 2), "rotation": p.rotation}
            for p in pages
        ],
        "page_size_unit": "pt",
        "document_info": info,
        "pdf_version": f"{pdf_version // 10}.{pdf_version % 10}" if pdf_version else None,
        "has_text_layer": any(p.objects.chars for p in pages),
        "pages_without_text": [p.number for p in pages if not p.objects.chars],
        "pages_text_from_pdfium": [p.number for p in pages if p.text_from_pdfium],
        "objects_per_page": per_page,
        "object_totals": totals,
        "default_unit": default_unit,
        "title_block_page": title_block_page,
    }


def _object_counts(objects: _PageObjects) -> dict[str, int]:
    return {
        "chars": objects.chars,
        "text_objects": objects.text_objects,
        "paths": objects.paths,
        "lines": objects.lines,
        "rects": objects.rects,
        "curves": objects.curves,
        "polylines": objects.polylines,
        "images": objects.images,
    }


def _page_warnings(pages: list[_Page]) -> list[str]:
    warnings = []
    textless = [p for p in pages if not p.objects.chars]
    if textless:
        content = _textless_content(textless)
        where = (
            f"page {textless[0].number} contains"
            if len(textless) == 1
            else f"pages {_ranges([p.number for p in textless])} contain"
        )
        warnings.append(
            f"no text layer: {where} only {content}; "
            "text, dimensions and title block cannot be read from them (OCR is not installed)"
        )
    for page in pages:
        objects = page.objects
        if (
            objects.chars
            and objects.paths >= THIN_TEXT_MIN_PATHS
            and objects.chars < THIN_TEXT_CHARS_PER_PATH * objects.paths
        ):
            warnings.append(
                f"thin text layer: page {page.number} has {objects.chars} characters of text against "
                f"{objects.paths} vector paths; most of its annotations are probably drawn as vectors and not extracted"
            )
        if page.rule_crossings_over_limit:
            warnings.append(
                f"page {page.number} has more than {MAX_RULE_CROSSINGS} crossings of ruling lines (a grid or "
                "hatching): ruled tables were not searched on it"
            )
        if page.text_from_pdfium:
            warnings.append(
                f"page {page.number} has {objects.paths} vector paths (over {HEAVY_PAGE_PATHS}): its text was read "
                "with PDFium and tables were not searched on it"
            )
    return warnings


def _textless_content(pages: list[_Page]) -> str:
    has_images = any(p.objects.images for p in pages)
    has_vectors = any(p.objects.paths for p in pages)
    if has_images and has_vectors:
        return "vector graphics/images (a scan or a plot)"
    if has_images:
        return "images (a scan)"
    if has_vectors:
        return "vector graphics"
    return "nothing (blank)"
