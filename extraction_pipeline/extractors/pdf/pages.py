"""Opening the file, choosing pages, and PDFium's inventory of each page (object counts, text of heavy pages)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfminer.psexceptions import PSException
from pdfplumber.utils.exceptions import PdfminerException

from extraction_pipeline.errors import ConfigurationError, CorruptFileError
from extraction_pipeline.extractors.pdf.dimension_lines import DimensionLines, dimension_lines_from
from extraction_pipeline.extractors.pdf.dimensions import needs_line_evidence
from extraction_pipeline.extractors.pdf.glyph_regions import GLYPH_MAX, find_glyph_regions
from extraction_pipeline.extractors.pdf.model import Page, PageObjects, Run, page_ranges
from extraction_pipeline.extractors.pdf.pdfium_geometry import pdfium_geometry
from extraction_pipeline.extractors.schema import BBox, SourceInfo


@contextmanager
def open_pdfium(path: Path, source: SourceInfo) -> Iterator[pdfium.PdfDocument]:
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise CorruptFileError(_pdfium_error_message(source.filename, str(exc))) from exc
    try:
        yield document
    finally:
        document.close()


_PDFMINER_ERRORS = (PdfminerException, PSException)


@contextmanager
def open_pdfplumber(path: Path, source: SourceInfo) -> Iterator[pdfplumber.PDF]:
    """pdfplumber's view of the file; pdfminer's parse errors (raised while pages are read, too) are corrupt files."""
    try:
        with pdfplumber.open(path) as document:
            yield document
    except _PDFMINER_ERRORS as exc:
        raise CorruptFileError(f"{source.filename} could not be parsed as a PDF: {exc or type(exc).__name__}") from exc


def _pdfium_error_message(filename: str, detail: str) -> str:
    if "password" in detail.lower():
        return f"{filename} is password-protected (encrypted); remove the password and upload it again"
    return f"{filename} is not a readable PDF (damaged, truncated or not a PDF at all): {detail}"


_PAGE_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def selected_pages(options: Mapping[str, Any], page_count: int) -> tuple[list[int], list[str]]:
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
                f"max_pages={max_pages}: extracted {page_ranges(pages[:max_pages])} of {len(pages)} selected page(s)"
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


def read_page_with_pdfium(document: pdfium.PdfDocument, number: int, filename: str) -> Page:
    try:
        return _pdfium_page(document, number)
    except pdfium.PdfiumError as exc:
        raise CorruptFileError(f"{filename}: page {number} cannot be read ({exc})") from exc


def _pdfium_page(document: pdfium.PdfDocument, number: int) -> Page:
    page = document[number - 1]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            paths: list[tuple[BBox, int]] = []
            objects = _count_objects(page, textpage, paths)
            result = Page(number, width, height, page.get_rotation(), objects)
            if objects.chars and result.heavy:
                result.runs = _pdfium_runs(page, textpage, number)
                result.text_from_pdfium = True
                result.dimension_lines = dimension_lines_near(page, result.runs)
            if objects.chars and (not result.heavy or _visible_latin_chars(textpage) < FULL_TEXT_LAYER_CHARS):
                result.glyph_regions = find_glyph_regions(paths, _text_boxes(page, textpage))
        finally:
            textpage.close()
    finally:
        page.close()
    return result


def dimension_lines_near(page: pdfium.PdfPage, runs: list[Run]) -> DimensionLines:
    """Dimension lines of a heavy page, read with PDFium near the runs that need them (OCR'd glyphs left out)."""
    near = [run.bbox for run in runs if needs_line_evidence(run)]
    glyphs = [run.bbox for run in runs if run.source is not None]
    return dimension_lines_from(*pdfium_geometry(page, display_transform(page), near, glyphs))


FULL_TEXT_LAYER_CHARS = 300
"""Glyph-drawn text is decided per region, not per page: a page of ordinary weight is searched for rows of
glyph-like paths outside its text layer whatever that layer holds (a model-based-definition plot prints its notes
as text and its dimensions as outlines), and a page whose glyph-like paths all sit under text has a full text
layer: nothing of it is OCRed. A heavy page (thousands of paths: hatching, terrain, wiring) is searched only when
its visible text layer holds fewer Latin letters and digits than this (CJK labels only, hidden net names, a title
line), as the search there costs seconds and its small paths are mostly not letters."""


def _visible_latin_chars(textpage: pdfium.PdfTextPage) -> int:
    """Latin letters and digits of the text layer that are drawn (text render mode 3 is invisible: hidden
    net names of a PCB export, an OCR layer under a scan)."""
    count = 0
    for index in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index))
        if not (char.isascii() and char.isalnum()):
            continue
        text_object = pdfium_c.FPDFText_GetTextObject(textpage.raw, index)
        if (
            text_object
            and pdfium_c.FPDFTextObj_GetTextRenderMode(text_object) != pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE
        ):
            count += 1
    return count


def _text_boxes(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> list[BBox]:
    to_display = display_transform(page)
    boxes = []
    for index in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(index)
        (ax, ay), (bx, by) = to_display(left, bottom), to_display(right, top)
        boxes.append((min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
    return boxes


def _count_objects(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, paths: list[tuple[BBox, int]]) -> PageObjects:
    """The page's object counts; ``paths`` gets the box on the displayed page and the segment count of each path
    at most a letter high (what ``glyph_regions`` looks at)."""
    counts = PageObjects()
    text = textpage.get_text_range()
    counts.chars = sum(1 for ch in text if not ch.isspace())
    to_display = display_transform(page)
    for obj in page.get_objects(max_depth=15):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
            counts.text_objects += 1
        elif obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            counts.images += 1
        elif obj.type == pdfium_c.FPDF_PAGEOBJ_PATH:
            counts.paths += 1
            left, bottom, right, top = obj.get_bounds()
            (ax, ay), (bx, by) = to_display(left, bottom), to_display(right, top)
            box = (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))
            if min(box[2] - box[0], box[3] - box[1]) <= GLYPH_MAX:
                paths.append((box, pdfium_c.FPDFPath_CountSegments(obj.raw)))
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


def _pdfium_runs(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, number: int) -> list[Run]:
    """PDFium's own text segments (a line of one text object), mapped to top-left displayed coordinates."""
    to_display = display_transform(page)
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
            Run(
                text,
                number,
                min(ax, bx),
                min(ay, by),
                max(ax, bx),
                max(ay, by),
                round(font_size, 2) if font_size else None,
                rotation=_text_direction(textpage, char_index, page.get_rotation()) if char_index >= 0 else None,
            )
        )
    return sorted(runs, key=lambda run: (run.top, run.x0))  # reading order, as pdfplumber's runs


def _text_direction(textpage: pdfium.PdfTextPage, char_index: int, page_rotation: int) -> float | None:
    """The direction the character runs on the displayed page, counter-clockwise (None: left to right).

    PDFium gives the angle clockwise in user space; ``/Rotate`` turns the page clockwise on top of it.
    """
    clockwise = round(math.degrees(pdfium_c.FPDFText_GetCharAngle(textpage.raw, char_index)) / 90) * 90
    direction = (-clockwise - page_rotation) % 360
    return float(direction) if direction else None


def _pdfium_font_size(textpage: pdfium.PdfTextPage, char_index: int) -> float:
    """Tf size times the scale of the character's matrix: the size a reader sees (pdfplumber's ``size``)."""
    matrix = pdfium_c.FS_MATRIX()
    pdfium_c.FPDFText_GetMatrix(textpage.raw, char_index, matrix)
    scale = math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c)) or 1.0
    return pdfium_c.FPDFText_GetFontSize(textpage.raw, char_index) * scale


def display_transform(page: pdfium.PdfPage) -> Any:
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


def document_info(document: pdfium.PdfDocument) -> dict[str, str]:
    return {key.lower(): value for key, value in document.get_metadata_dict(skip_empty=True).items()}
