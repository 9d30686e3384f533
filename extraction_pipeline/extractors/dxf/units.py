"""Units of reported lengths: the drawing's own ``$INSUNITS`` unit, or the ``convert_to`` option's.

A drawing without ``$INSUNITS`` whose linear or dimension number format is engineering, architectural or
fractional (``$LUNITS``/``$DIMLUNIT`` 3-5, in the header or a dimension style) writes inches (``43 7/8``,
``3'-4 1/2"``): its unit is ``in``, and a warning says it was read from the format. ``$MEASUREMENT`` alone is no
evidence (it is the template's default, metric or imperial, whatever the drawing holds).
"""

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


_INCH_ONLY_FORMATS = {3, 4, 5}
"""$LUNITS/$DIMLUNIT engineering, architectural and fractional: feet-and-inch or inch-fraction formats."""


def _unit_from_formats(doc: Drawing) -> str | None:
    """``in`` when the drawing writes its lengths or dimensions in an inch-only format (``43 7/8``, ``3'-4 1/2"``)."""
    formats = {int_header(doc, "$DIMLUNIT", 0), int_header(doc, "$LUNITS", 0)}
    formats |= {int(style.dxf.get("dimlunit", 0) or 0) for style in doc.dimstyles}
    return "in" if formats & _INCH_ONLY_FORMATS else None


def resolve_units(doc: Drawing, options: Mapping[str, Any]) -> tuple[Units, list[str]]:
    code = int_header(doc, "$INSUNITS", 0)
    name = _unit_name(code)
    warnings = []
    if name is None:
        name = _unit_from_formats(doc)
        code_of_name = InsertUnits.Inches if name else 0
        if name is None:
            warnings.append(
                f"the drawing has no length unit ($INSUNITS={code}): lengths are in unspecified drawing units"
            )
        else:
            warnings.append(f"the drawing has no length unit ($INSUNITS={code}): its inch number formats say {name}")
        units = Units(insunits=code, drawing_unit=name, unit=name)
        return _converted(units, code_of_name, options, warnings)
    units = Units(insunits=code, drawing_unit=name, unit=name)
    return _converted(units, code, options, warnings)


def _converted(units: Units, code: int, options: Mapping[str, Any], warnings: list[str]) -> tuple[Units, list[str]]:
    name = units.unit
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
    return Units(insunits=units.insunits, drawing_unit=units.drawing_unit, unit=target, factor=factor), warnings


def int_header(doc: Drawing, name: str, default: int) -> int:
    value = doc.header.get(name, default)
    return int(value) if isinstance(value, (int, float)) else default
