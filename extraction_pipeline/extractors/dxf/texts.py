"""Texts shown in the layouts → text blocks, and the callouts written in them (threads, finishes, GD&T, sizes).

Texts are the layouts' TEXT, MTEXT and MULTILEADER texts, then what inserts show: their visible ATTRIBs and the
texts of their blocks' definitions, once per insert, placed where the insert puts them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ezdxf import bbox as ezdxf_bbox
from ezdxf.entities import Attrib, MText, MultiLeader, Text
from ezdxf.lldxf.const import DXFError
from ezdxf.math import Vec3
from ezdxf.tools.text import plain_mtext

from extraction_pipeline.extractors.annotations import parse_annotations
from extraction_pipeline.extractors.dxf.layouts import Placed, attrib_text
from extraction_pipeline.extractors.dxf.units import Units
from extraction_pipeline.extractors.schema import BBox, Dimension, GdtCallout, SurfaceFinish, TextBlock, Thread


@dataclass(frozen=True)
class ShownText:
    """A text where its layout shows it, in drawing units (title-block search works on these before any conversion)."""

    text: str
    layout: str
    layer: str | None
    box: tuple[float, float, float, float]  # (x0, y0, x1, y1)
    height: float | None


def shown_texts(shown: list[Placed], cache: ezdxf_bbox.Cache) -> list[ShownText]:
    texts = []
    for item in shown:
        entity = item.entity
        if isinstance(entity, Attrib):
            if entity.is_invisible:
                continue
            content, height = attrib_text(entity), entity.dxf.get("height")
            box = _text_box(item, cache)
        elif isinstance(entity, (Text, MText)) and entity.dxftype() in ("TEXT", "MTEXT"):  # not ATTDEFs
            content = entity.plain_text(split=False) if isinstance(entity, MText) else entity.plain_text()
            height = entity.dxf.get("char_height" if isinstance(entity, MText) else "height")
            box = _text_box(item, cache)
        elif isinstance(entity, MultiLeader) and entity.has_mtext_content:
            content = plain_mtext(entity.get_mtext_content())
            height = entity.context.char_height
            box = _box_of(item.to_layout([Vec3(entity.context.mtext.insert)]))  # type: ignore[union-attr]
        else:
            continue
        if content.strip():
            texts.append(ShownText(content, item.layout, item.layer, box, _scaled_height(item, height)))
    return texts


def _text_box(item: Placed, cache: ezdxf_bbox.Cache) -> tuple[float, float, float, float]:
    """The text's extent (estimated from font metrics), or its insertion point when that cannot be had."""
    try:
        box = ezdxf_bbox.extents([item.entity], fast=True, cache=cache)
    except (DXFError, ValueError, TypeError, ArithmeticError):
        box = None
    if box is not None and box.has_data:
        (x0, y0, _), (x1, y1, _) = box.extmin, box.extmax
        corners = [Vec3(x0, y0), Vec3(x1, y0), Vec3(x1, y1), Vec3(x0, y1)]
    else:
        corners = [Vec3(item.entity.dxf.get("insert", (0, 0, 0)))]
    return _box_of(item.to_layout(corners))


def _box_of(points: list[Vec3]) -> tuple[float, float, float, float]:
    xs, ys = [p.x for p in points], [p.y for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _scaled_height(item: Placed, height: float | None) -> float | None:
    """The text height as the layout shows it (a block inserted at scale 2 shows its texts twice as high)."""
    if height is None or item.matrix is None:
        return height
    return height * item.matrix.transform_direction(Vec3(0, 1, 0)).magnitude


def text_blocks(texts: list[ShownText], units: Units) -> list[TextBlock]:
    return [
        TextBlock(
            text=text.text,
            layer=text.layer,
            bbox=units.box(*text.box),
            font_size=None if text.height is None else units.length(text.height),
        )
        for text in texts
    ]


# --- annotations (threads, surface finishes, GD&T, callouts written as text) -----------------------------

# A dimension written as text is not tied to geometry the way a DIMENSION entity is.
_TEXT_CALLOUT_CONFIDENCE = 0.8


@dataclass
class Annotations:
    dimensions: list[Dimension]
    threads: list[Thread]
    surface_finishes: list[SurfaceFinish]
    gdt: list[GdtCallout]

    def add_callouts(self, text: str, *, default_unit: str, layer: str | None, box: BBox | None) -> list[Dimension]:
        """Collects the threads, finishes and GD&T of ``text``; returns the dimensions written in it."""
        parsed = parse_annotations(text, default_unit=default_unit, layer=layer, bbox=box)
        self.threads += parsed.threads
        self.surface_finishes += parsed.surface_finishes
        self.gdt += parsed.gdt
        return parsed.dimensions


def annotations(
    text_blocks: list[TextBlock], shown: list[Placed], entity_dimensions: list[Dimension], units: Units
) -> Annotations:
    found = Annotations([], [], [], [])
    default_unit = units.drawing_unit or units.label  # CAD text states numbers in drawing units
    for block in text_blocks:
        written = found.add_callouts(block.text, default_unit=default_unit, layer=block.layer, box=block.bbox)
        found.dimensions += _text_callouts(written, entity_dimensions, units)
    # Dimension text overrides ("M8x1.25") and GD&T frames: their dimensions are the entities' own.
    for dimension in entity_dimensions:
        if dimension.label:
            found.add_callouts(dimension.label, default_unit=default_unit, layer=dimension.layer, box=dimension.bbox)
    for item in (item for item in shown if item.entity.dxftype() == "TOLERANCE"):
        (at,) = item.to_layout([Vec3(item.entity.dxf.get("insert", (0, 0, 0)))])
        content = item.entity.dxf.get("content", "")
        found.add_callouts(content, default_unit=default_unit, layer=item.layer, box=units.box(at.x, at.y, at.x, at.y))
    return found


def _text_callouts(written: list[Dimension], entity_dimensions: list[Dimension], units: Units) -> list[Dimension]:
    """Dimensions written as text that are clearly callouts and not already a DIMENSION entity's."""
    callouts = []
    for dimension in written:
        if dimension.confidence < 1.0:  # a bare number: in a drawing far more often an id, count or note
            continue
        if dimension.unit == (units.drawing_unit or units.label):
            dimension = dimension.model_copy(update=_converted_lengths(dimension, units))
        if any(_same_value(dimension, entity) for entity in entity_dimensions):
            continue  # the text restates a DIMENSION entity ("50 +0.1/-0.05" next to the 50 it annotates)
        callouts.append(dimension.model_copy(update={"confidence": _TEXT_CALLOUT_CONFIDENCE}))
    return callouts


def _converted_lengths(dimension: Dimension, units: Units) -> dict[str, Any]:
    def scaled(value: float | None) -> float | None:
        return None if value is None else units.length(value)

    return {
        "value": units.length(dimension.value),
        "tolerance_plus": scaled(dimension.tolerance_plus),
        "tolerance_minus": scaled(dimension.tolerance_minus),
        "unit": units.label,
    }


def _same_value(a: Dimension, b: Dimension) -> bool:
    return a.unit == b.unit and math.isclose(a.value, b.value, rel_tol=1e-6, abs_tol=1e-9)
