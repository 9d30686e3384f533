"""DXF drawings → ``ExtractionResult`` with ezdxf.

What is read, from modelspace AND every paperspace layout (PyBase read modelspace only): layers with their
state and entity counts, named blocks with every insert's attributes, DIMENSION entities (measured from their
definition points), ACAD_TABLE tables, TEXT/MTEXT as plain text, threads / surface finishes / GD&T / text
callouts found in those texts (``annotations.py``), a title block and a BOM from attributed block inserts
(failing an attributed title block, from labelled TEXT/MTEXT in the bottom-right), a geometry summary and the
modelspace extents.

What block inserts show counts as shown: a DIMENSION or TEXT inside a block definition is listed once per
insert (nested inserts and MINSERT cells included), placed where that insert puts it, and every visible ATTRIB
is a text block. So ``len(dimensions with confidence 1.0)`` equals, for the layouts, their DIMENSION /
ARC_DIMENSION / LARGE_RADIAL_DIMENSION entities plus, for each INSERT, those of its block (recursively), and
``len(tables)`` their ACAD_TABLE entities.

Units: lengths are reported in the drawing's own unit, named from ``$INSUNITS`` (``units`` = "mm", "m",
"in", …; ``None`` for a unitless drawing) — never assumed to be mm. ``options={"convert_to": "mm"}``
(any ezdxf unit symbol: "mm", "cm", "m", "in", "ft", …) converts every reported length — dimension values
and tolerances, text positions and heights, block base points, table boxes, extents — to that unit; angles
stay in degrees, and ``metadata["drawing_units"]`` keeps the drawing's own unit.

Modules: ``reading`` (strict read, recover, the file's own version), ``units``, ``layouts`` (entities, block
contents per insert, layers, blocks, geometry summary), ``dimensions``, ``texts`` (text blocks and callouts),
``tables`` (ACAD_TABLE, and the BOM of those that are parts lists), ``title_block`` (title block and BOM of
attributed inserts), ``drawing_info`` (extents and metadata).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ezdxf.document import Drawing
from ezdxf.entities import Insert

from extraction_pipeline.extractors.dxf import drawing_info, layouts
from extraction_pipeline.extractors.dxf.dimensions import dimensions
from extraction_pipeline.extractors.dxf.reading import load_drawing
from extraction_pipeline.extractors.dxf.tables import bom_of_tables, tables
from extraction_pipeline.extractors.dxf.texts import ShownText, annotations, shown_texts, text_blocks
from extraction_pipeline.extractors.dxf.title_block import (
    bom,
    title_block_from_attributes,
    title_block_from_texts,
)
from extraction_pipeline.extractors.dxf.units import resolve_units
from extraction_pipeline.extractors.schema import BlockAttribute, ExtractionResult, FileFormat, SourceInfo, TitleBlock

__all__ = ["VERSION", "extract"]

VERSION = "1.1.0"


def extract(path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    loaded = load_drawing(path, source.filename)
    doc = loaded.doc
    units, unit_warnings = resolve_units(doc, options)
    placed = layouts.layout_entities(doc)
    in_blocks, block_warnings = layouts.block_contents(doc, placed)
    shown = [*placed, *in_blocks]
    bounds = drawing_info.Bounds(doc)

    layer_list, layer_warnings = layouts.layers(doc, placed)
    found_dimensions, dimension_warnings = dimensions(shown, units)
    found_tables, table_warnings = tables(placed, units)
    texts = shown_texts(shown, bounds.cache)
    blocks_of_text = text_blocks(texts, units)
    callouts = annotations(blocks_of_text, shown, found_dimensions, units)
    attributed = [
        attributes
        for item in placed
        if isinstance(item.entity, Insert)
        if (attributes := layouts.attributes(item.entity))
    ]
    extents, extents_source = drawing_info.extents(doc, bounds, units)

    return ExtractionResult(
        format=FileFormat.DXF,
        extractor_version=VERSION,
        source=source,
        metadata=drawing_info.metadata(loaded, placed, units, extents_source),
        warnings=[
            *loaded.warnings,
            *unit_warnings,
            *layer_warnings,
            *block_warnings,
            *bounds.warnings(),
            *dimension_warnings,
            *table_warnings,
        ],
        text_blocks=blocks_of_text,
        tables=found_tables,
        dimensions=[*found_dimensions, *callouts.dimensions],
        gdt=callouts.gdt,
        threads=callouts.threads,
        surface_finishes=callouts.surface_finishes,
        title_block=_find_title_block(doc, attributed, texts, bounds),
        bom=bom(attributed) or bom_of_tables(found_tables),
        layers=layer_list,
        blocks=layouts.blocks(doc, layouts.all_inserts(doc, placed), units),
        geometry_summary=layouts.geometry_summary(placed),
        extents=extents,
        units=units.unit,
    )


def _find_title_block(
    doc: Drawing, attributed: list[list[BlockAttribute]], texts: list[ShownText], bounds: drawing_info.Bounds
) -> TitleBlock | None:
    """From an attributed title-block insert of a layout, failing that one nested in a block (a sheet border block
    holding the title block insert), failing that from labelled texts in the bottom-right."""
    from_attributes = title_block_from_attributes(attributed)
    if from_attributes is not None:
        return from_attributes
    nested = [attributes for insert in layouts.all_inserts(doc, []) if (attributes := layouts.attributes(insert))]
    from_nested = title_block_from_attributes(nested)
    if from_nested is not None:
        return from_nested
    return title_block_from_texts(texts, _text_layout_boxes(doc, texts, bounds))


def _text_layout_boxes(
    doc: Drawing, texts: list[ShownText], bounds: drawing_info.Bounds
) -> dict[str, tuple[float, float, float, float]]:
    """The 2D extents of each layout that has text (the frame the title-block region is relative to)."""
    boxes = {}
    for name in dict.fromkeys(text.layout for text in texts):
        box = bounds.layout_box(doc.layouts.get(name))
        if box is not None:
            boxes[name] = (box[0], box[1], box[3], box[4])
    return boxes
