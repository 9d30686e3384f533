"""The drawing stages over read pages — tables, title block, text blocks, BOM, annotations — whatever the text source.

PDF pages (text layer, PDFium or OCR runs) and raster images (OCR runs) both end here, so a drawing reads the same
whether it was uploaded as a PDF or as a scan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from extraction_pipeline.extractors.pdf.bom import (
    carry_headers_over_pages,
    find_bom,
    is_form_grid,
    is_item_list,
    to_table,
)
from extraction_pipeline.extractors.pdf.dimensions import add_annotations, find_named_unit, relabel_default_unit
from extraction_pipeline.extractors.pdf.drawing_units import drawing_unit, unit_in_title_block, unit_of_dimensions
from extraction_pipeline.extractors.pdf.model import FoundTable, Page
from extraction_pipeline.extractors.pdf.text import page_text_blocks
from extraction_pipeline.extractors.pdf.title_block import find_title_block, is_title_block_table
from extraction_pipeline.extractors.pdf.title_unlabelled import complete_title_block
from extraction_pipeline.extractors.schema import ExtractionResult, FileFormat, SourceInfo

# (default unit, title block page) -> the result's metadata
MetadataFor = Callable[[str, "int | None"], dict[str, Any]]


def _is_title_grid(table: FoundTable) -> bool:
    """Title block fields by their labels or a form by its layout; never a long list of items."""
    return (is_title_block_table(table) or is_form_grid(table)) and not is_item_list(table)


def drawing_result(
    source: SourceInfo,
    pages: list[Page],
    *,
    file_format: FileFormat,
    version: str,
    warnings: list[str],
    metadata_for: MetadataFor,
) -> ExtractionResult:
    found = [t for page in pages for t in page.tables]
    title_tables = [t for t in found if _is_title_grid(t)]
    data_tables = [t for t in found if not _is_title_grid(t)]
    tables = carry_headers_over_pages([to_table(t) for t in data_tables])
    title_block, title_block_page, title_area = find_title_block(pages, data_tables)
    title_block = complete_title_block(title_block, title_block_page, pages)
    named_unit = find_named_unit(pages) or unit_in_title_block(title_block)
    default_unit = named_unit or "mm"
    result = ExtractionResult(
        format=file_format,
        extractor_version=version,
        source=source,
        text_blocks=[block for page in pages for block in page_text_blocks(page)],
        tables=tables,
        title_block=title_block,
        bom=find_bom(tables),
        warnings=warnings,
        metadata=metadata_for(default_unit, title_block_page),
    )
    # numbers inside tables and the title block are quantities and revisions, not dimensions
    quiet_areas = {(t.page, t.bbox) for t in [*data_tables, *title_tables]}
    if title_area is not None:
        quiet_areas.add(title_area)
    add_annotations(result, pages, quiet_areas, default_unit)
    written_unit = None if named_unit else unit_of_dimensions(result.dimensions)
    if written_unit is not None and written_unit != default_unit:
        relabel_default_unit(result.dimensions, default_unit, written_unit)
    result.units = drawing_unit(named_unit, result.dimensions, default_unit)
    return result
