"""PDF drawings: text blocks with positions, ruled and unruled tables, title block, BOM and annotations.

Two libraries, each where it is strong:

- **PDFium** (``pypdfium2``, C++) opens the file (a password, a damaged or truncated file becomes
  ``CorruptFileError``), counts each page's objects (characters, lines, rectangles, curves, polylines,
  images) and reads the text of pages whose vector content is too large for pdfminer. It takes well
  under a second on a 36 x 24 in plot with 16,000 vector paths.
- **pdfplumber** (pdfminer, pure Python) gives words with font sizes, ruling edges and ruled tables on
  pages that have a text layer and at most ``HEAVY_PAGE_PATHS`` vector paths. pdfminer needs ~6 s for
  a single 16,000-path plot, so heavier pages get their text from PDFium and no table search (the result
  says so in a warning). Pages without a text layer are handed to pdfplumber only after OCR has read them
  (``ocr.py``), for their ruling lines, dimension lines and ruled tables, glyph outlines left out. Connected
  ruling lines with more than ``dense_grids.MAX_GRID_CROSSINGS`` crossings (counted on pdfplumber's own merged
  edges) are left out of the table search with a warning: its cost grows faster than the crossings.

Stages (one module each): ``pages`` (opening, selection, PDFium inventory), ``orientation`` (a page whose
text runs sideways or upside down, ``/Rotate`` or not, is read turned so it reads left to right), ``text``
(runs, blocks), ``tables``, ``title_block``/``title_cells``, ``dimension_lines``/``dimensions``, ``bom``,
``report`` (metadata, warnings).

What comes out (all bboxes in PDF points, top-left origin of the displayed, rotation-applied page,
pages numbered from 1; a page read turned has its bboxes turned back):

- ``text_blocks``: words grouped into runs (same baseline, no wide gap and no ruling line between) and
  runs into blocks (stacked lines of the same size with nothing ruled between them); vertical words are read
  in their own direction (upwards or downwards);
- ``tables``: ruled tables from pdfplumber (the page-sized cells of a drawing frame are dropped, and a table
  sharing the frame's lines is regrouped without them; a table drawn as separately bordered cells with
  gutters between them, which pdfplumber sees as one grid per column or per cell, is stitched back into one)
  and unruled ones found from runs that align in >= 2 columns over >= 3 evenly spaced rows with no horizontal
  rule between them and >= 2 columns of short cells (column-set prose aligns too, but its lines are long;
  pdfplumber's "text" strategy merges a whole drawing sheet into one table, so it is not used). A header row
  is detected (no digits, distinct cells, plus a known header word, a bold row over a regular body, or a
  column that is numeric below it); otherwise the columns are named ``col_1..n`` and every row is data.
  A first row holding one text over a header row is the table's ``title``; a top cell spanning the table whose
  last line holds the column names (no rule under the header) is cut at the columns' edges into the header and
  its caption. A header-less table at the top of the page after a headed one with as many columns carries on
  that list and gets its headers. A grid that is a form (``Label: value`` cells, rows that share no columns,
  or mostly blank cells under no header) is no table: it is the title block's, unless it is a long list of
  items (>= 8 rows filling the same columns);
- ``title_block``: labels (DRAWING NO, TITLE, REV, DATE, SCALE, MATERIAL, DRAWN BY, SHEET, COMPANY,
  FINISH, ...) on any page, written as ``LABEL: value``, as a label with the value below it or to its right
  (in ruled cells: the value in the label's own cell, the next cell of its row or the cell under it, as CAD
  templates and label|value grids print them; such a grid is the title block, not a table), or (bottom-right
  quarter only, a few words) as ``LABEL value``. A label is never a value (``Sheet Sheet`` is one label).
  A run holding several fields (``DRAWING NO: BM-0000   REV: B   SCALE: 1:2``) is cut before each later
  label with a colon, and before an unknown label or a colon-less ``LABEL value`` after a wide gap (two
  spaces' worth); values keep their own colons and label words (``SCALE: 1:2``, ``TITLE: REV A BRACKET``),
  see ``title_fields.py``. The page with the most labels wins; fields it lacks are filled from other pages.
  Unknown labels inside the title block area go to ``custom_fields``; ``metadata["title_block_page"]`` says
  where it was found;
- ``dimensions``/``threads``/``surface_finishes``/``gdt``: the shared annotation parser over every run, with
  the run's page and bbox. A number is a dimension only with evidence, and ``confidence`` says which (see
  ``dimensions.py``): a written mark (tolerance, fit, unit, degree, Ø, R + size) and/or its place on a
  dimension line or at a leader's end (lines ending in arrowheads or ticks). Bare numbers need the line;
  ``R`` + a whole number is no radius on a page of reference designators (a schematic). The default unit is
  ``in`` when a note says dimensions are in inches, else ``mm``;
- ``bom``: rows of the tables whose headers have a quantity column and an item, part or description
  column, in English, Catalan, Spanish, German, French, Italian, Czech, Chinese or Japanese (``Qty``,
  ``Quantitat``, ``Menge``, ``Qté``, ``Množství``, ``数量``; ``Pos.``, ``Nº``, ``Descripció``, ``Benennung``,
  ``Désignation``, ``名称``, ...; see ``bom.py``); tables with the same headers on several pages are joined;
- ``metadata``: ``page_count``, ``pages_extracted``, ``page_sizes``, ``document_info`` (producer,
  creator, title, ...), ``pdf_version``, ``has_text_layer``, ``pages_without_text``, ``objects_per_page``
  and ``object_totals`` (chars = non-blank characters of the text layer), ``pages_text_from_pdfium``,
  ``default_unit``, ``title_block_page``; ``page_sizes`` give each page's ``text_direction`` (0, or the
  direction its text runs on the displayed page, counter-clockwise);
- ``warnings``: pages without a text layer (vector-only or scanned) when OCR is off, pages with a thin
  text layer under thousands of vector paths, pages too heavy for the table search, grids left out of it.

Options:

- ``pages``: page selection such as ``"1-3"``, ``"2"``, ``"1,3,5-7"``, an int or a list of ints
  (1-based; numbers past the last page are ignored);
- ``max_pages``: at most this many of the selected pages (the first ones) are extracted.

A selection that names no existing page raises ``ConfigurationError``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from extraction_pipeline.errors import CorruptFileError
from extraction_pipeline.extractors.pdf.dimension_lines import find_dimension_lines
from extraction_pipeline.extractors.pdf.drawing import drawing_result
from extraction_pipeline.extractors.pdf.model import Page, rounded
from extraction_pipeline.extractors.pdf.ocr import read_pages_with_ocr
from extraction_pipeline.extractors.pdf.orientation import Turn, TurnedPage, upright_view
from extraction_pipeline.extractors.pdf.pages import (
    dimension_lines_near,
    document_info,
    open_pdfium,
    open_pdfplumber,
    read_page_with_pdfium,
    selected_pages,
)
from extraction_pipeline.extractors.pdf.report import page_warnings, result_metadata
from extraction_pipeline.extractors.pdf.tables import add_text_tables, ruled_tables
from extraction_pipeline.extractors.pdf.text import (
    read_rules,
    read_text_layer,
    split_at_rules,
    without_outlined_text,
)
from extraction_pipeline.extractors.schema import ExtractionResult, FileFormat, SourceInfo

VERSION = "1.2.0"


def extract(path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    """The stages in order: inventory, text (runs and rules), tables, then the result built from the runs.

    Everything after the text stage reads only ``Page.runs`` and ``Page.rules``: runs from another source (OCR
    of a page without a text layer) go through the same tables, title block, dimensions and BOM code.
    """
    with open_pdfium(path, source) as document:
        page_count = len(document)
        if page_count == 0:
            raise CorruptFileError(f"{source.filename} is a PDF without any page")
        selected, selection_warnings = selected_pages(options, page_count)
        pages = [read_page_with_pdfium(document, number, source.filename) for number in selected]
        info = document_info(document)
        pdf_version = document.get_version()
    light_text_pages = [page for page in pages if page.objects.chars and not page.heavy]
    if light_text_pages:
        _read_text_layers(path, source, light_text_pages)
    ocr, ocr_warnings = read_pages_with_ocr(path, source, pages, options)
    ocr_pages = [page for page in pages if page.text_from_ocr and not page.heavy]
    if ocr_pages:
        _read_vector_layers(path, source, ocr_pages)
    heavy_ocr_pages = [page for page in pages if page.text_from_ocr and page.heavy]
    if heavy_ocr_pages:
        _read_heavy_vector_layers(path, source, heavy_ocr_pages)
    for page in pages:
        add_text_tables(page)
    result = _build_result(source, pages, page_count, info, pdf_version, selection_warnings + ocr_warnings)
    result.ocr = ocr
    return result


def _read_vector_layers(path: Path, source: SourceInfo, pages: list[Page]) -> None:
    """Ruling lines, dimension lines and ruled tables (their cells filled from the runs) of pages read by OCR."""
    with open_pdfplumber(path, source) as document:
        for page in pages:
            plumber_page = document.pages[page.number - 1]
            reading_page = TurnedPage(plumber_page, page.turn) if page.turn else plumber_page
            vectors = without_outlined_text(reading_page, page.runs)
            page.rules = read_rules(vectors)
            page.runs = split_at_rules(page.runs, page.rules)
            page.dimension_lines = find_dimension_lines(vectors)
            page.tables = ruled_tables(vectors, page)
            plumber_page.close()


def _read_heavy_vector_layers(path: Path, source: SourceInfo, pages: list[Page]) -> None:
    """Dimension lines of heavy pages read by OCR, from PDFium near the runs that need them."""
    with open_pdfium(path, source) as document:
        for page in pages:
            pdfium_page = document[page.number - 1]
            try:
                page.dimension_lines = dimension_lines_near(pdfium_page, page.runs)
            finally:
                pdfium_page.close()


def _read_text_layers(path: Path, source: SourceInfo, pages: list[Page]) -> None:
    """Runs, ruling lines and ruled tables of pages with a text layer that pdfminer reads quickly."""
    with open_pdfplumber(path, source) as document:
        for page in pages:
            plumber_page = document.pages[page.number - 1]
            reading_page, turn = upright_view(plumber_page)
            page.read_turned(turn)
            read_text_layer(reading_page, page)
            page.dimension_lines = find_dimension_lines(reading_page)
            page.tables = ruled_tables(reading_page, page)
            plumber_page.close()


def _build_result(
    source: SourceInfo,
    pages: list[Page],
    page_count: int,
    info: dict[str, str],
    pdf_version: int | None,
    selection_warnings: list[str],
) -> ExtractionResult:
    result = drawing_result(
        source,
        pages,
        file_format=FileFormat.PDF,
        version=VERSION,
        warnings=page_warnings(pages) + selection_warnings,
        metadata_for=lambda unit, title_page: result_metadata(pages, page_count, info, pdf_version, unit, title_page),
    )
    _bboxes_to_display(result, {page.number: page.turn for page in pages if page.turn})
    return result


def _bboxes_to_display(result: ExtractionResult, turns: dict[int, Turn]) -> None:
    """Bboxes found in a turned page's reading frame, given back in the displayed page's coordinates."""
    if not turns:
        return
    found = [result.text_blocks, result.tables, result.dimensions, result.threads, result.surface_finishes, result.gdt]
    for item in itertools.chain.from_iterable(found):
        turn = turns.get(item.page) if item.page is not None else None
        if turn is not None and item.bbox is not None:
            item.bbox = rounded(turn.bbox_to_display(item.bbox))
