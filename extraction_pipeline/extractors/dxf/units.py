"""Units of reported lengths: the drawing's own ``$INSUNITS`` unit, or the ``convert_to`` option's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ezdxf import units as ezdxf_units
from ezdxf.document import Drawing
from ezdxf.enums import InsertUnits
from ezdxf.math import Vec3

from extraction_pipeline.errors import ConfigurationError
from extraction_pipeline.extractors.schema import BBox

DECIMALS = 9  # enough for µm in a drawing in metres; hides float noise such as 24.999999999999982


@dataclass(frozen=True)
class Units:
    """How lengths are reported: in ``unit``, i.e. drawing units times ``factor``."""

    insunits: int
    drawing_unit: str | None  # the unit $INSUNITS names; None for a unitless drawing
    unit: str | None  # the unit of reported lengths (the convert_to target when converting)
    factor: float = 1.0

    @property
    def label(self) -> str:
        return self.unit or "unitless"

    def length(self, value: float) -> float:
        return round(value * self.factor, DECIMALS)

    def point(self, point: Iterable[float]) -> tuple[float, float, float]:
        x, y, z = Vec3(point)
        return (self.length(x), self.length(y), self.length(z))

    def box(self, x0: float, y0: float, x1: float, y1: float) -> BBox:
        return (self.length(x0), self.length(y0), self.length(x1), self.length(y1))


def _unit_name(code: int) -> str | None:
    if code <= 0 or code >= len(InsertUnits):
        return None
    return ezdxf_units.decode(code) or InsertUnits(code).name  # decode has no symbol for US survey units


_UNIT_CODES: dict[str, int] = {
    name: code for code in range(1, len(InsertUnits)) if (name := _unit_name(code)) is not None
} | {"um": InsertUnits.Microns, "inch": InsertUnits.Inches}


def resolve_units(doc: Drawing, options: Mapping[str, Any]) -> tuple[Units, list[str]]:
    code = int_header(doc, "$INSUNITS", 0)
    name = _unit_name(code)
    warnings = []
    if name is None:
        warnings.append(f"the drawing has no length unit ($INSUNITS={code}): lengths are in unspecified drawing units")
    units = Units(insunits=code, drawing_unit=name, unit=name)
    target = options.get("convert_to")
    if target is None or target == name:
        return units, warnings
    if target not in _UNIT_CODES:
        raise ConfigurationError(f"convert_to={target!r} is not a length unit; use one of {sorted(_UNIT_CODES)}")
    try:
        factor = ezdxf_units.conversion_factor(InsertUnits(code), InsertUnits(_UNIT_CODES[target]))
    except (TypeError, ValueError):
        warnings.append(f"lengths are not converted to {target}: the drawing unit {name or 'unitless'} cannot be")
        return units, warnings
    return Units(insunits=code, drawing_unit=name, unit=target, factor=factor), warnings


def int_header(doc: Drawing, name: str, default: int) -> int:
    value = doc.header.get(name, default)
    return int(value) if isinstance(value, (int, float)) else default
