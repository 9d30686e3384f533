"""Dimensions, threads, surface finishes and GD&T from every run, through the shared annotation parser."""

from __future__ import annotations

import re

from extraction_pipeline.extractors.annotations import parse_annotations
from extraction_pipeline.extractors.pdf.model import Page, inside
from extraction_pipeline.extractors.schema import BBox, ExtractionResult

_INCH_NOTE = re.compile(r"(?i)\b(?:dimensions|dims|units)\b[^.]{0,30}?\b(?:inch|inches)\b")


def find_default_unit(pages: list[Page]) -> str:
    return "in" if any(_INCH_NOTE.search(run.text) for page in pages for run in page.runs) else "mm"


def add_annotations(
    result: ExtractionResult, pages: list[Page], quiet_areas: set[tuple[int, BBox]], default_unit: str
) -> None:
    for page in pages:
        quiet = [box for number, box in quiet_areas if number == page.number]
        for run in page.runs:
            found = parse_annotations(run.text, default_unit=default_unit, page=page.number, bbox=run.bbox)
            in_quiet_area = any(inside(run, box) for box in quiet)
            result.dimensions.extend(d for d in found.dimensions if not (in_quiet_area and d.confidence < 1.0))
            result.threads.extend(found.threads)
            result.surface_finishes.extend(found.surface_finishes)
            result.gdt.extend(found.gdt)
