"""Result metadata (page sizes, object counts, document info) and warnings about what could not be read."""

from __future__ import annotations

from typing import Any

from extraction_pipeline.extractors.pdf.dense_grids import MAX_GRID_CROSSINGS
from extraction_pipeline.extractors.pdf.model import (
    HEAVY_PAGE_PATHS,
    THIN_TEXT_CHARS_PER_PATH,
    THIN_TEXT_MIN_PATHS,
    Page,
    PageObjects,
    page_ranges,
)


def result_metadata(
    pages: list[Page],
    page_count: int,
    info: dict[str, str],
    pdf_version: int | None,
    default_unit: str,
    title_block_page: int | None,
) -> dict[str, Any]:
    per_page = [{"page": p.number, **_object_counts(p.objects)} for p in pages]
    totals = {key: sum(row[key] for row in per_page) for key in _object_counts(PageObjects())}
    return {
        "page_count": page_count,
        "pages_extracted": [p.number for p in pages],
        "page_sizes": [
            {
                "page": p.number,
                "width": round(p.display_size[0], 2),
                "height": round(p.display_size[1], 2),
                "rotation": p.rotation,
                "text_direction": p.turn.degrees if p.turn else 0,
            }
            for p in pages
        ],
        "page_size_unit": "pt",
        "document_info": info,
        "pdf_version": f"{pdf_version // 10}.{pdf_version % 10}" if pdf_version else None,
        "has_text_layer": any(p.objects.chars for p in pages),
        "pages_without_text": [p.number for p in pages if not p.objects.chars],
        "pages_text_from_pdfium": [p.number for p in pages if p.text_from_pdfium],
        "pages_text_from_ocr": [p.number for p in pages if p.text_from_ocr],
        "objects_per_page": per_page,
        "object_totals": totals,
        "default_unit": default_unit,
        "title_block_page": title_block_page,
    }


def _object_counts(objects: PageObjects) -> dict[str, int]:
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


def page_warnings(pages: list[Page]) -> list[str]:
    warnings = []
    textless = [p for p in pages if not p.objects.chars and not p.text_from_ocr]
    if textless:
        content = _textless_content(textless)
        where = (
            f"page {textless[0].number} contains"
            if len(textless) == 1
            else f"pages {page_ranges([p.number for p in textless])} contain"
        )
        warnings.append(
            f"no text layer: {where} only {content}; "
            "text, dimensions and title block cannot be read from them without OCR (EXTRACTION_OCR)"
        )
    for page in pages:
        objects = page.objects
        if (
            objects.chars
            and not page.text_from_ocr
            and objects.paths >= THIN_TEXT_MIN_PATHS
            and objects.chars < THIN_TEXT_CHARS_PER_PATH * objects.paths
        ):
            warnings.append(
                f"thin text layer: page {page.number} has {objects.chars} characters of text against "
                f"{objects.paths} vector paths; most of its annotations are probably drawn as vectors and not extracted"
            )
        for grid in page.dense_grids:
            warnings.append(
                f"page {page.number}: connected ruling lines with {grid.crossings} crossings (a grid or hatching, over "
                f"{MAX_GRID_CROSSINGS}) were left out of the table search; the rest of the page was searched"
            )
        if page.text_from_pdfium:
            warnings.append(
                f"page {page.number} has {objects.paths} vector paths (over {HEAVY_PAGE_PATHS}): its text was read "
                "with PDFium and tables were not searched on it"
            )
    return warnings


def _textless_content(pages: list[Page]) -> str:
    has_images = any(p.objects.images for p in pages)
    has_vectors = any(p.objects.paths for p in pages)
    if has_images and has_vectors:
        return "vector graphics/images (a scan or a plot)"
    if has_images:
        return "images (a scan)"
    if has_vectors:
        return "vector graphics"
    return "nothing (blank)"
