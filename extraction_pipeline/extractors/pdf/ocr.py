"""OCR of pages without a usable text layer: their lines become runs, like a text layer's, for every later stage.

A page is read by OCR when ``EXTRACTION_OCR`` (or the ``ocr`` option) is ``auto`` and it has no text layer, or
a thin one under thousands of vector paths (a CAD plot whose annotations are strokes), or when it is ``always``.
With ``auto``, a page whose text layer leaves rows of glyph-like paths uncovered (CJK labels or notes as text,
Latin numbers as outlines) has only those regions read (``Page.glyph_regions``); a page with a full text layer
(every glyph-like path under text) is never read. On a page that has some text layer the OCR lines it already
holds are not added again: the text layer is exact.
Nothing downstream is OCR-specific: tables, title block, dimensions, threads and BOM read ``Page.runs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from extraction_pipeline.extractors.ocr.config import OcrConfig, OcrMode
from extraction_pipeline.extractors.ocr.reader import OcrLine
from extraction_pipeline.extractors.ocr.session import OcrSession
from extraction_pipeline.extractors.pdf.model import (
    THIN_TEXT_CHARS_PER_PATH,
    THIN_TEXT_MIN_PATHS,
    Page,
    Run,
)
from extraction_pipeline.extractors.pdf.pages import open_pdfium
from extraction_pipeline.extractors.schema import OcrInfo, SourceInfo

OCR_SOURCE = "ocr"
_BOX_PER_FONT_SIZE = 1.4
"""The detector's box around a line is about this many times the font size (cap height plus its margin)."""
_COVERED_SHARE = 0.5


def needs_ocr(page: Page, mode: OcrMode) -> bool:
    if mode is OcrMode.ALWAYS:
        return True
    if mode is OcrMode.OFF:
        return False
    objects = page.objects
    thin = objects.paths >= THIN_TEXT_MIN_PATHS and objects.chars < THIN_TEXT_CHARS_PER_PATH * objects.paths
    return not objects.chars or thin


def read_pages_with_ocr(
    path: Path, source: SourceInfo, pages: list[Page], options: Mapping[str, Any]
) -> tuple[OcrInfo | None, list[str]]:
    """OCR the pages that need it (adding their runs); the result's ``ocr`` block and the OCR warnings."""
    config = OcrConfig.resolve(options)
    targets = {page.number: None for page in pages if needs_ocr(page, config.mode)}
    if config.mode is OcrMode.AUTO:
        targets.update({page.number: page.glyph_regions for page in pages if page.glyph_regions})
        targets.update({page.number: None for page in pages if needs_ocr(page, config.mode)})
    if not targets:
        return None, []
    session = OcrSession.for_sandbox_request(config)
    with open_pdfium(path, source) as document:
        for page in (page for page in pages if page.number in targets):
            pdf_page = document[page.number - 1]
            try:
                reading = session.read_pdf_page(page.number, pdf_page, targets[page.number])
            finally:
                pdf_page.close()
            if reading is not None:
                add_ocr_runs(page, reading.lines)
                if not reading.lines and not page.objects.chars:
                    session.warnings.append(f"no text layer: page {page.number}: OCR found no text on it either")
    return session.finish(), session.warnings


def add_ocr_runs(page: Page, lines: list[OcrLine]) -> None:
    """The lines as runs of ``page`` (in its reading frame), except those its text layer already has."""
    text_layer = [run for run in page.runs if run.source != OCR_SOURCE]
    runs = _joined_on_baselines([ocr_run(line, page) for line in lines])
    added = [run for run in runs if not any(_covers(existing, run) for existing in text_layer)]
    page.runs = sorted([*page.runs, *added], key=lambda r: (r.top, r.x0))
    page.text_from_ocr = True


def ocr_run(line: OcrLine, page: Page) -> Run:
    """A run with the line's box (in the page's reading frame); polygon and rotation stay in the displayed page."""
    x0, top, x1, bottom = page.turn.bbox_to_reading(line.bbox) if page.turn else line.bbox
    return Run(
        text=line.text,
        page=page.number,
        x0=x0,
        top=top,
        x1=x1,
        bottom=bottom,
        font_size=round(line.thickness / _BOX_PER_FONT_SIZE, 1),
        source=OCR_SOURCE,
        confidence=line.confidence,
        rotation=line.rotation,
        polygon=line.polygon if line.rotation else None,
    )


_RUN_GAP_EM = 1.0
"""Lines side by side with at most this gap (in font sizes) are one run, as the text layer's words are."""
_SAME_LINE_SHARE = 0.5


def _joined_on_baselines(runs: list[Run]) -> list[Run]:
    """Horizontal OCR lines on one baseline with a narrow gap joined into one run (``ISO`` + ``4762``).

    The detector sometimes boxes the words of one phrase apart; the text layer's words become runs by the same
    rule (``text.py``: a gap of at most 1 em), so a cell's text is one run whichever source it came from.
    """
    upright = sorted((r for r in runs if not r.rotation), key=lambda r: (r.x0, r.top))
    joined: list[Run] = []
    for run in upright:
        left = next((j for j in reversed(joined) if _continues(j, run)), None)
        if left is None:
            joined.append(run)
            continue
        joined[joined.index(left)] = replace(
            left,
            text=_joined_text(left, run),
            x1=max(left.x1, run.x1),
            top=min(left.top, run.top),
            bottom=max(left.bottom, run.bottom),
            confidence=min(left.confidence or 0.0, run.confidence or 0.0),
        )
    return [*joined, *(r for r in runs if r.rotation)]


def _joined_text(left: Run, right: Run) -> str:
    """``left`` then ``right``; when their boxes overlap, characters both read there are written once
    (``ISO 4`` + ``4762`` is ``ISO 4762``: the detector boxed the first digit twice)."""
    char_width = (right.x1 - right.x0) / max(len(right.text), 1)
    shared = round((left.x1 - right.x0) / char_width) if char_width > 0 else 0  # characters the overlap holds
    for length in range(min(shared, len(left.text), len(right.text)), 0, -1):
        if left.text.endswith(right.text[:length]):
            return left.text[:-length].rstrip() + " " + right.text
    return f"{left.text} {right.text}"


def _continues(left: Run, right: Run) -> bool:
    em = max(left.font_size or left.height, right.font_size or right.height)
    gap = right.x0 - left.x1
    shared = min(left.bottom, right.bottom) - max(left.top, right.top)
    return -0.5 * em <= gap <= _RUN_GAP_EM * em and shared >= _SAME_LINE_SHARE * min(left.height, right.height)


def _covers(existing: Run, run: Run) -> bool:
    width = min(existing.x1, run.x1) - max(existing.x0, run.x0)
    height = min(existing.bottom, run.bottom) - max(existing.top, run.top)
    if width <= 0 or height <= 0:
        return False
    smaller = min((run.x1 - run.x0) * (run.bottom - run.top), (existing.x1 - existing.x0) * existing.height)
    return width * height >= _COVERED_SHARE * smaller  # OCR boxes are padded: a text-layer box sits inside
