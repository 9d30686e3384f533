"""Extents and metadata of a drawing: version (the file's own), encoding, units, layouts, header variables."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ezdxf import bbox as ezdxf_bbox
from ezdxf.document import Drawing
from ezdxf.entities import Dimension as DxfDimension
from ezdxf.entities import DXFGraphic, Insert
from ezdxf.lldxf.const import DXFError
from ezdxf.math import Vec3
from ezdxf.tools.juliandate import calendardate

from extraction_pipeline.extractors.dxf.dimensions import defpoints
from extraction_pipeline.extractors.dxf.layouts import Placed, blocks_reaching_a_cycle, layout_counts
from extraction_pipeline.extractors.dxf.reading import LoadedDrawing
from extraction_pipeline.extractors.dxf.units import Units
from extraction_pipeline.extractors.schema import Extents

_UNSET_EXTENT = 1e19  # ezdxf and AutoCAD write ±1e20 for "never computed"


class Bounds:
    """Bounding boxes of a drawing's layouts, with ezdxf's cache, leaving out inserts of self-referencing blocks.

    ezdxf follows inserts to compute a box; a block that inserts itself (directly or through other blocks, which
    AutoCAD refuses but scripts write) would make it recurse to Python's limit, slowly.
    """

    def __init__(self, doc: Drawing) -> None:
        self.cache = ezdxf_bbox.Cache()
        self.cyclic_blocks = blocks_reaching_a_cycle(doc)
        self._spelling = {block.name.casefold(): block.name for block in doc.blocks}

    def warnings(self) -> list[str]:
        if not self.cyclic_blocks:
            return []
        names = ", ".join(sorted(self._spelling.get(name, name) for name in self.cyclic_blocks))
        return [f"blocks insert themselves (directly or through other blocks): {names}; left out of the extents"]

    def layout_box(self, entities: Iterable[DXFGraphic]) -> tuple[float, float, float, float, float, float] | None:
        box = ezdxf_bbox.BoundingBox()
        drawable = []
        for entity in entities:
            # ezdxf draws a DIMENSION from its geometry block; without one, its definition points bound it
            if isinstance(entity, DxfDimension) and entity.get_geometry_block() is None:
                box.extend(defpoints(entity))
            elif not (isinstance(entity, Insert) and entity.dxf.get("name", "").casefold() in self.cyclic_blocks):
                drawable.append(entity)
        try:
            box = box.union(ezdxf_bbox.extents(drawable, fast=True, cache=self.cache))
        except (DXFError, ValueError, TypeError, ArithmeticError, AttributeError, RecursionError):
            return None
        if not box.has_data:
            return None
        (x0, y0, z0), (x1, y1, z1) = box.extmin, box.extmax
        return x0, y0, z0, x1, y1, z1


def _header_extents(doc: Drawing) -> tuple[float, float, float, float, float, float] | None:
    low, high = doc.header.get("$EXTMIN"), doc.header.get("$EXTMAX")
    if low is None or high is None:
        return None
    low, high = Vec3(low), Vec3(high)
    valid = all(math.isfinite(v) and abs(v) < _UNSET_EXTENT for v in (*low, *high))
    if not valid or not (low.x <= high.x and low.y <= high.y and low.z <= high.z):
        return None
    return low.x, low.y, low.z, high.x, high.y, high.z


def extents(doc: Drawing, bounds: Bounds, units: Units) -> tuple[Extents | None, str | None]:
    """Modelspace extents computed from the geometry, else the header's when they are set."""
    box, source = bounds.layout_box(doc.modelspace()), "computed"
    if box is None:
        box, source = _header_extents(doc), "header"
    if box is None:
        return None, None
    return Extents(min=units.point(box[:3]), max=units.point(box[3:]), unit=units.unit), source


_HEADER_VARIABLES = (
    "$ACADVER", "$DWGCODEPAGE", "$INSUNITS", "$MEASUREMENT", "$LUNITS", "$LUPREC", "$AUNITS", "$AUPREC",
    "$DIMSTYLE", "$DIMSCALE", "$DIMLFAC", "$LTSCALE", "$LIMMIN", "$LIMMAX", "$TDCREATE", "$TDUPDATE",
    "$LASTSAVEDBY", "$PROJECTNAME",
)  # fmt: skip
_JULIAN_DATES = frozenset({"$TDCREATE", "$TDUPDATE"})


def _header_of_interest(doc: Drawing) -> dict[str, Any]:
    header: dict[str, Any] = {}
    for name in _HEADER_VARIABLES:
        value = doc.header.get(name)
        if value is not None:
            header[name] = _json_value(name, value)
    return header


def _number_or_text(raw: str) -> float | str:
    try:
        return float(raw)
    except ValueError:
        return raw


def _json_value(name: str, value: Any) -> Any:
    if name in _JULIAN_DATES and isinstance(value, (int, float)):
        try:
            return calendardate(float(value)).isoformat()
        except (ValueError, OverflowError):
            return value
    if isinstance(value, (str, int, float, bool)):
        return value
    return [float(v) for v in value]  # points (Vec2/Vec3/tuples)


def metadata(loaded: LoadedDrawing, placed: list[Placed], units: Units, extents_source: str | None) -> dict[str, Any]:
    """``dxf_version``/``acad_release`` are the file's own (None when its header names none); ``loaded_as`` is
    the version ezdxf upgraded it to in memory (the same for every file R12 or newer)."""
    doc = loaded.doc
    measurement = doc.header.get("$MEASUREMENT")
    header = _header_of_interest(doc)
    for name in ("$ACADVER", "$TDCREATE"):  # ezdxf rewrites them on loading: the file's own values
        header.pop(name, None)
        if name in loaded.file_header:
            header[name] = _json_value(name, _number_or_text(loaded.file_header[name]))
    header = {name: header[name] for name in _HEADER_VARIABLES if name in header}
    metadata: dict[str, Any] = {
        "dxf_version": loaded.file_version,
        "acad_release": loaded.release,
        "loaded_as": doc.dxfversion,
        "encoding": doc.encoding,
        "insunits": units.insunits,
        "drawing_units": units.drawing_unit,
        "measurement": measurement,
        "measurement_system": {0: "imperial", 1: "metric"}.get(measurement) if measurement is not None else None,
        "layouts": layout_counts(doc, placed),
        "header": header,
        "extents_source": extents_source,
    }
    if units.factor != 1.0 or units.unit != units.drawing_unit:
        metadata["converted_to"] = units.unit
        metadata["conversion_factor"] = units.factor
    return metadata
