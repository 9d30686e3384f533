"""DIMENSION entities → ``Dimension``: measured from their definition points, not read from their picture.

Listed: the layouts' own DIMENSIONs, then those of block definitions once per insert that shows them (see
``layouts.block_contents``). A dimension in a block shows the value measured in the block's own coordinates
(an enlarged detail view inserted at scale 2 still reads its true size); its bbox is where the insert puts it.
Dimension values are geometric measurements, not scaled by ``DIMLFAC`` (which would change the unit the value
is in). ARC_DIMENSION and LARGE_RADIAL_DIMENSION count as dimensions too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ezdxf.entities import ArcDimension
from ezdxf.entities import Dimension as DxfDimension
from ezdxf.lldxf.const import DXFError, DXFTableEntryError
from ezdxf.math import Vec3
from ezdxf.tools.text import plain_mtext

from extraction_pipeline.extractors.annotations import parse_dimensions
from extraction_pipeline.extractors.dxf.layouts import Placed
from extraction_pipeline.extractors.dxf.units import DECIMALS, Units
from extraction_pipeline.extractors.schema import Dimension, DimensionType

_DIMTYPES: dict[int, DimensionType] = {
    0: DimensionType.LINEAR,  # rotated / horizontal / vertical
    1: DimensionType.LINEAR,  # aligned
    2: DimensionType.ANGULAR,  # two lines
    3: DimensionType.DIAMETER,
    4: DimensionType.RADIUS,
    5: DimensionType.ANGULAR,  # three points
    6: DimensionType.ORDINATE,
}
# Subclasses of DIMENSION whose dimtype ezdxf cannot measure: their stored measurement is used.
_STORED_MEASUREMENT_TYPES: dict[str, DimensionType] = {
    "ARC_DIMENSION": DimensionType.LINEAR,
    "LARGE_RADIAL_DIMENSION": DimensionType.RADIUS,
}
_ORDINATE_X_FLAG = 64
_MEASURED_VALUE = "<>"
_DEFPOINTS = ("defpoint", "defpoint2", "defpoint3", "defpoint4", "defpoint5", "text_midpoint")


@dataclass(frozen=True)
class _Measured:
    value: float  # drawing units, or degrees for angular dimensions
    dimension_type: DimensionType


def _measure(dim: DxfDimension) -> _Measured | None:
    """The dimension's value from its definition points (None when it has none we can use)."""
    stored = dim.dxf.get("actual_measurement")
    if isinstance(dim, ArcDimension) and stored is None:
        return _Measured(_arc_length(dim), DimensionType.LINEAR)  # an arc length is a length
    if dim.dxftype() in _STORED_MEASUREMENT_TYPES:
        return None if stored is None else _Measured(stored, _STORED_MEASUREMENT_TYPES[dim.dxftype()])
    dimension_type = _DIMTYPES.get(dim.dimtype)
    if dimension_type is None:
        return None
    try:
        measurement = dim.get_measurement()
    except (DXFError, TypeError, ValueError, ArithmeticError):
        return None if stored is None else _Measured(stored, dimension_type)
    if isinstance(measurement, Vec3):  # ordinate: the feature's offset from the origin, one axis shown
        measurement = abs(measurement.x if dim.dxf.dimtype & _ORDINATE_X_FLAG else measurement.y)
    return _Measured(float(measurement), dimension_type)


def _arc_length(dim: ArcDimension) -> float:
    """Counter-clockwise arc from the first to the second extension line around the centre (defpoint4)."""
    center = Vec3(dim.dxf.defpoint4)
    start, end = Vec3(dim.dxf.defpoint2) - center, Vec3(dim.dxf.defpoint3) - center
    sweep = (end.angle - start.angle) % math.tau
    return start.magnitude * sweep


def _tolerances(dim: DxfDimension) -> tuple[float | None, float | None]:
    """(DIMTP, DIMTM) when the style (with the entity's overrides) shows tolerances or limits."""
    try:
        style = dim.override()
    except DXFTableEntryError:  # the dimension names a DIMSTYLE the file does not define
        return None, None
    if not (style.get("dimtol", 0) or style.get("dimlim", 0)):
        return None, None
    return float(style.get("dimtp", 0.0)), float(style.get("dimtm", 0.0))


def _displayed_text(dim: DxfDimension, value: float) -> str | None:
    """The text override as shown, ``<>`` replaced by the measurement; None when the plain value is shown."""
    text = dim.dxf.get("text", "")
    if text in ("", _MEASURED_VALUE):
        return None
    shown = plain_mtext(unstack(text.replace(_MEASURED_VALUE, _format_number(value)))).strip()
    return shown or None


_STACKED = re.compile(r"\\S(?P<upper>[^;^/#]*)(?P<separator>[\^/#])(?P<lower>[^;]*);")


def unstack(mtext: str) -> str:
    """MTEXT stacking written out: ``75\\S0^-0.05;`` (deviations) is ``75 +0/-0.05``, ``23\\S1/8;`` is ``23 1/8``.

    ezdxf's plain text glues the two halves to the value (``750^-0.05``), which reads as another number."""

    def written(match: re.Match[str]) -> str:
        upper, lower = match["upper"].strip(), match["lower"].strip()
        if match["separator"] != "^":
            return f" {upper}/{lower}"
        if upper and upper[0] not in "+-±":
            upper = "+" + upper
        return f" {upper}/{lower}" if lower else f" {upper}"

    return _STACKED.sub(written, mtext)


def _written_value(label: str, units: Units, angular: bool) -> Dimension | None:
    """The one dimension a text override prints (``43 7/8``, ``Ø73.64``, ``75 +0/-0.05``), or None."""
    written = parse_dimensions(label, default_unit=units.label)
    if len(written) != 1 or (written[0].unit == "deg") != angular:
        return None
    return written[0]


def _format_number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def defpoints(dim: DxfDimension) -> list[Vec3]:
    return [Vec3(dim.dxf.get(name)) for name in _DEFPOINTS if dim.dxf.hasattr(name)]


def _defpoints_box(item: Placed, dim: DxfDimension) -> tuple[float, float, float, float] | None:
    """The box of the definition points where the layout shows them."""
    points = item.to_layout(defpoints(dim))
    if not points:
        return None
    xs, ys = [p.x for p in points], [p.y for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _dimension(item: Placed, dim: DxfDimension, units: Units) -> Dimension | None:
    measured = _measure(dim)
    if measured is None:
        return None
    angular = measured.dimension_type is DimensionType.ANGULAR

    def scale(value: float) -> float:  # degrees are never converted
        return round(value, DECIMALS) if angular else units.length(value)

    plus, minus = _tolerances(dim)
    label = _displayed_text(dim, measured.value)
    fit = None
    value = measured.value
    written = _written_value(label, units, angular) if label else None
    if written is not None:
        # a text override may carry a fit or tolerances the DIMSTYLE does not ("<> H7", "25 ±0.1"), and what it
        # prints is what the drawing says: "43 7/8" over a measured 43.79, "Ø73.64" over 73.68
        fit = written.fit
        value = written.value
        if plus is None and minus is None:
            plus, minus = written.tolerance_plus, written.tolerance_minus
    box = _defpoints_box(item, dim)
    return Dimension(
        value=scale(value),
        unit="deg" if angular else units.label,
        tolerance_plus=None if plus is None else scale(plus),
        tolerance_minus=None if minus is None else scale(minus),
        dimension_type=measured.dimension_type,
        label=label,
        text=label,
        fit=fit,
        layer=item.layer,
        bbox=None if box is None else units.box(*box),
    )


def dimensions(shown: list[Placed], units: Units) -> tuple[list[Dimension], list[str]]:
    """The dimensions of ``shown`` (layout entities and block contents), and a warning for those not measurable."""
    found, unmeasured = [], 0
    for item in shown:
        if isinstance(item.entity, DxfDimension):
            dimension = _dimension(item, item.entity, units)
            if dimension is None:
                unmeasured += 1
            else:
                found.append(dimension)
    warnings = [f"{unmeasured} dimension entities have no measurement that can be read"] if unmeasured else []
    return found, warnings
