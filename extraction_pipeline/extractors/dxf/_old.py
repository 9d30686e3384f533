"""DXF drawings → ``ExtractionResult`` with ezdxf.

What is read, from modelspace AND every paperspace layout (PyBase read modelspace only):
layers with their state and entity counts, named blocks with every insert's attributes, DIMENSION
entities (measured from their definition points), TEXT/MTEXT as plain text, threads / surface finishes /
GD&T / text callouts found in those texts (``annotations.py``), a title block and a BOM from attributed
block inserts (failing an attributed title block, from labelled TEXT/MTEXT in the bottom-right, a text holding
several ``LABEL: value`` fields being split into them), a geometry summary and the modelspace extents.

Units: lengths are reported in the drawing's own unit, named from ``$INSUNITS`` (``units`` = "mm", "m",
"in", …; ``None`` for a unitless drawing) — never assumed to be mm. ``options={"convert_to": "mm"}``
(any ezdxf unit symbol: "mm", "cm", "m", "in", "ft", …) converts every reported length — dimension values
and tolerances, text positions and heights, block base points, extents — to that unit; angles stay in
degrees, and ``metadata["drawing_units"]`` keeps the drawing's own unit. Dimension values are geometric
measurements, not scaled by ``DIMLFAC`` (which would change the unit the value is in).

Loading: a file is read strictly first and used as is. ezdxf's audit is deliberately not run on it: it
deletes DIMENSION entities that lack a geometry block (common in files written by scripts), and their
measurements are exactly what we want. Only a file the strict reader rejects goes through
``ezdxf.recover`` (which audits and repairs); what it repaired becomes warnings. A file without the final
EOF marker is truncated and refused: recovering it would silently drop whatever came after the cut.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ezdxf
from ezdxf import bbox as ezdxf_bbox
from ezdxf import recover
from ezdxf import units as ezdxf_units
from ezdxf.document import Drawing
from ezdxf.entities import ArcDimension, Attrib, DXFGraphic, Insert, MText, MultiLeader, Text
from ezdxf.entities import Dimension as DxfDimension
from ezdxf.enums import InsertUnits
from ezdxf.lldxf.const import DXFError, DXFTableEntryError
from ezdxf.lldxf.validator import is_binary_dxf_file, is_dxf_file
from ezdxf.math import Vec3
from ezdxf.tools.juliandate import calendardate
from ezdxf.tools.text import plain_mtext

from extraction_pipeline.errors import ConfigurationError, CorruptFileError, EmptyFileError
from extraction_pipeline.extractors.annotations import parse_annotations, parse_dimensions
from extraction_pipeline.extractors.schema import (
    BBox,
    Block,
    BlockAttribute,
    Bom,
    Dimension,
    DimensionType,
    Extents,
    ExtractionResult,
    FileFormat,
    GdtCallout,
    GeometrySummary,
    Layer,
    SourceInfo,
    SurfaceFinish,
    TextBlock,
    Thread,
    TitleBlock,
)
from extraction_pipeline.extractors.title_fields import FieldSplitter

VERSION = "1.0.0"

_DECIMALS = 9  # enough for µm in a drawing in metres; hides float noise such as 24.999999999999982
_MAX_REPAIR_WARNINGS = 10

# --- loading -----------------------------------------------------------------------------------------------


def _load_document(path: Path, filename: str) -> tuple[Drawing, list[str]]:
    """The parsed drawing and warnings about repairs. Raises ``CorruptFileError`` for unreadable files."""
    if path.stat().st_size == 0:
        raise EmptyFileError(f"{filename} is empty")
    binary = is_binary_dxf_file(str(path))
    if not binary and not is_dxf_file(str(path)):
        raise CorruptFileError(f"{filename} is not a DXF file: it does not start with a DXF SECTION")
    if not _ends_with_eof_marker(path):
        raise CorruptFileError(f"{filename} is truncated: the DXF file ends before its EOF marker")
    try:
        return ezdxf.readfile(path), []
    except MemoryError:
        raise
    except Exception:  # ezdxf raises many kinds on damaged input; the recover reader decides below
        pass
    try:
        doc, auditor = recover.readfile(path)
    except MemoryError:
        raise
    except Exception as exc:
        raise CorruptFileError(f"{filename} is a damaged DXF file that cannot be repaired: {exc}") from exc
    return doc, _repair_warnings(filename, auditor.fixes, auditor.errors)


def _ends_with_eof_marker(path: Path) -> bool:
    with path.open("rb") as stream:
        stream.seek(max(0, path.stat().st_size - 64))
        tail = stream.read()
    # ASCII DXF ends "  0\nEOF\n"; binary DXF ends with "EOF\0"; some writers append a DOS Ctrl-Z.
    return tail.rstrip(b" \t\r\n\x00\x1a").endswith(b"EOF")


def _repair_warnings(filename: str, fixes: list[Any], errors: list[Any]) -> list[str]:
    summary = (
        f"{filename} was damaged and has been repaired on reading: "
        f"{len(fixes)} problem(s) fixed, {len(errors)} left unfixed"
    )
    details = [f"repair: {entry.message}" for entry in [*fixes, *errors][:_MAX_REPAIR_WARNINGS]]
    return [summary, *details]


# --- units -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Units:
    """How lengths are reported: in ``unit``, i.e. drawing units times ``factor``."""

    insunits: int
    drawing_unit: str | None  # the unit $INSUNITS names; None for a unitless drawing
    unit: str | None  # the unit of reported lengths (the convert_to target when converting)
    factor: float = 1.0

    @property
    def label(self) -> str:
        return self.unit or "unitless"

    def length(self, value: float) -> float:
        return round(value * self.factor, _DECIMALS)

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


def _resolve_units(doc: Drawing, options: Mapping[str, Any]) -> tuple[_Units, list[str]]:
    code = _int_header(doc, "$INSUNITS", 0)
    name = _unit_name(code)
    warnings = []
    if name is None:
        warnings.append(f"the drawing has no length unit ($INSUNITS={code}): lengths are in unspecified drawing units")
    units = _Units(insunits=code, drawing_unit=name, unit=name)
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
    return _Units(insunits=code, drawing_unit=name, unit=target, factor=factor), warnings


def _int_header(doc: Drawing, name: str, default: int) -> int:
    value = doc.header.get(name, default)
    return int(value) if isinstance(value, (int, float)) else default


# --- entities of all layouts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Placed:
    layout: str
    entity: DXFGraphic


def _layout_entities(doc: Drawing) -> list[_Placed]:
    """Every entity of modelspace and the paperspace layouts, in tab order."""
    placed = []
    for name in doc.layouts.names_in_taborder():
        placed.extend(_Placed(name, entity) for entity in doc.layouts.get(name))
    return placed


def _layout_counts(doc: Drawing, placed: list[_Placed]) -> dict[str, int]:
    counts = Counter(item.layout for item in placed)
    return {name: counts[name] for name in doc.layouts.names_in_taborder()}


# --- layers ----------------------------------------------------------------------------------------------


def _layers(doc: Drawing, placed: list[_Placed]) -> tuple[list[Layer], list[str]]:
    counts = Counter(item.entity.dxf.get("layer", "0").casefold() for item in placed)
    layers = []
    for table_entry in doc.layers:
        layers.append(
            Layer(
                name=table_entry.dxf.name,
                color=table_entry.color,
                linetype=table_entry.dxf.get("linetype"),
                lineweight=table_entry.dxf.get("lineweight"),
                is_on=table_entry.is_on(),
                is_frozen=table_entry.is_frozen(),
                is_locked=table_entry.is_locked(),
                entity_count=counts.pop(table_entry.dxf.name.casefold(), 0),
            )
        )
    undefined: dict[str, str] = {}  # casefolded -> the spelling first met (layer names ignore case)
    for item in placed:
        name = item.entity.dxf.get("layer", "0")
        if name.casefold() in counts:
            undefined.setdefault(name.casefold(), name)
    layers.extend(Layer(name=name, entity_count=counts[key]) for key, name in undefined.items())
    missing = ", ".join(undefined.values())
    warnings = [f"entities use layers missing from the layer table: {missing}"] if undefined else []
    return layers, warnings


# --- blocks and their attributes -------------------------------------------------------------------------


def _is_named_block(name: str) -> bool:
    """Anonymous blocks (``*D1`` dimension pictures, ``*U`` dynamic copies, ``*Model_Space``…) are not parts."""
    return not name.startswith("*")


def _attributes(insert: Insert) -> list[BlockAttribute]:
    return [BlockAttribute(tag=attrib.dxf.get("tag", ""), value=_attrib_text(attrib)) for attrib in insert.attribs]


def _attrib_text(attrib: Attrib) -> str:
    if attrib.has_embedded_mtext_entity:  # multi-line attribute (R2018)
        return attrib.virtual_mtext_entity().plain_text(split=False)
    return attrib.plain_text()


def _all_inserts(doc: Drawing, placed: list[_Placed]) -> list[Insert]:
    """INSERTs of the layouts, then those nested in named block definitions."""
    inserts = [item.entity for item in placed if isinstance(item.entity, Insert)]
    for block_layout in doc.blocks:
        if _is_named_block(block_layout.name) and not block_layout.is_any_layout:
            inserts.extend(entity for entity in block_layout if isinstance(entity, Insert))
    return inserts


def _blocks(doc: Drawing, inserts: list[Insert], units: _Units) -> list[Block]:
    inserts_by_block: dict[str, list[Insert]] = defaultdict(list)
    for insert in inserts:
        inserts_by_block[insert.dxf.get("name", "").casefold()].append(insert)
    blocks = []
    for block_layout in doc.blocks:
        if not _is_named_block(block_layout.name) or block_layout.is_any_layout:
            continue
        its_inserts = inserts_by_block.get(block_layout.name.casefold(), [])
        attribute_lists = [_attributes(insert) for insert in its_inserts]
        blocks.append(
            Block(
                name=block_layout.name,
                insert_count=len(its_inserts),
                base_point=units.point(block_layout.block.dxf.get("base_point", (0, 0, 0))),
                entity_count=len(block_layout),
                # one list per insert, aligned with the inserts; none at all for a block without attributes
                attributes=attribute_lists if any(attribute_lists) else [],
            )
        )
    return blocks


# --- dimensions ------------------------------------------------------------------------------------------

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
    shown = plain_mtext(text.replace(_MEASURED_VALUE, _format_number(value))).strip()
    return shown or None


def _format_number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _defpoints(dim: DxfDimension) -> list[Vec3]:
    return [Vec3(dim.dxf.get(name)) for name in _DEFPOINTS if dim.dxf.hasattr(name)]


def _defpoints_box(dim: DxfDimension) -> tuple[float, float, float, float] | None:
    points = _defpoints(dim)
    if not points:
        return None
    xs, ys = [p.x for p in points], [p.y for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _dimension(dim: DxfDimension, units: _Units) -> Dimension | None:
    measured = _measure(dim)
    if measured is None:
        return None
    angular = measured.dimension_type is DimensionType.ANGULAR

    def scale(value: float) -> float:  # degrees are never converted
        return round(value, _DECIMALS) if angular else units.length(value)

    plus, minus = _tolerances(dim)
    label = _displayed_text(dim, measured.value)
    fit = None
    if label:  # a text override may carry a fit or tolerances the DIMSTYLE does not ("<> H7", "25 ±0.1")
        written = parse_dimensions(label, default_unit=units.label)
        if len(written) == 1:
            fit = written[0].fit
            if plus is None and minus is None:
                plus, minus = written[0].tolerance_plus, written[0].tolerance_minus
    box = _defpoints_box(dim)
    return Dimension(
        value=scale(measured.value),
        unit="deg" if angular else units.label,
        tolerance_plus=None if plus is None else scale(plus),
        tolerance_minus=None if minus is None else scale(minus),
        dimension_type=measured.dimension_type,
        label=label,
        fit=fit,
        layer=dim.dxf.get("layer"),
        bbox=None if box is None else units.box(*box),
    )


def _dimensions(placed: list[_Placed], units: _Units) -> tuple[list[Dimension], list[str]]:
    dimensions, unmeasured = [], 0
    for item in placed:
        if isinstance(item.entity, DxfDimension):
            dimension = _dimension(item.entity, units)
            if dimension is None:
                unmeasured += 1
            else:
                dimensions.append(dimension)
    warnings = [f"{unmeasured} dimension entities have no measurement that can be read"] if unmeasured else []
    return dimensions, warnings


# --- texts -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    """A TEXT/MTEXT in drawing units (title-block search works on these before any conversion)."""

    text: str
    layout: str
    layer: str | None
    box: tuple[float, float, float, float]  # (x0, y0, x1, y1)
    height: float | None


def _texts(placed: list[_Placed], cache: ezdxf_bbox.Cache) -> list[_Text]:
    texts = []
    for item in placed:
        entity = item.entity
        if isinstance(entity, (Text, MText)) and entity.dxftype() in ("TEXT", "MTEXT"):  # not ATTDEFs
            content = entity.plain_text(split=False) if isinstance(entity, MText) else entity.plain_text()
            height = entity.dxf.get("char_height" if isinstance(entity, MText) else "height")
            box = _text_box(entity, cache)
        elif isinstance(entity, MultiLeader) and entity.has_mtext_content:
            content = plain_mtext(entity.get_mtext_content())
            insert = Vec3(entity.context.mtext.insert)  # type: ignore[union-attr]
            height, box = entity.context.char_height, (insert.x, insert.y, insert.x, insert.y)
        else:
            continue
        if content.strip():
            texts.append(_Text(content, item.layout, entity.dxf.get("layer"), box, height))
    return texts


def _text_box(entity: DXFGraphic, cache: ezdxf_bbox.Cache) -> tuple[float, float, float, float]:
    """The text's extent (estimated from font metrics), or its insertion point when that cannot be had."""
    try:
        box = ezdxf_bbox.extents([entity], fast=True, cache=cache)
    except (DXFError, ValueError, TypeError, ArithmeticError):
        box = None
    if box is not None and box.has_data:
        return box.extmin.x, box.extmin.y, box.extmax.x, box.extmax.y
    insert = Vec3(entity.dxf.get("insert", (0, 0, 0)))
    return insert.x, insert.y, insert.x, insert.y


def _text_blocks(texts: list[_Text], units: _Units) -> list[TextBlock]:
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
class _Annotations:
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


def _annotations(
    text_blocks: list[TextBlock], placed: list[_Placed], entity_dimensions: list[Dimension], units: _Units
) -> _Annotations:
    found = _Annotations([], [], [], [])
    default_unit = units.drawing_unit or units.label  # CAD text states numbers in drawing units
    for block in text_blocks:
        written = found.add_callouts(block.text, default_unit=default_unit, layer=block.layer, box=block.bbox)
        found.dimensions += _text_callouts(written, entity_dimensions, units)
    # Dimension text overrides ("M8x1.25") and GD&T frames: their dimensions are the entities' own.
    for dimension in entity_dimensions:
        if dimension.label:
            found.add_callouts(dimension.label, default_unit=default_unit, layer=dimension.layer, box=dimension.bbox)
    for frame in (item.entity for item in placed if item.entity.dxftype() == "TOLERANCE"):
        at = Vec3(frame.dxf.get("insert", (0, 0, 0)))
        content, layer = frame.dxf.get("content", ""), frame.dxf.get("layer")
        found.add_callouts(content, default_unit=default_unit, layer=layer, box=units.box(at.x, at.y, at.x, at.y))
    return found


def _text_callouts(written: list[Dimension], entity_dimensions: list[Dimension], units: _Units) -> list[Dimension]:
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


def _converted_lengths(dimension: Dimension, units: _Units) -> dict[str, Any]:
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


# --- title block -----------------------------------------------------------------------------------------


def _normalized_tag(tag: str) -> str:
    """``"Dwg. No:"`` → ``"DWG_NO"``: one spelling for attribute tags and text labels."""
    return re.sub(r"[^A-Z0-9]+", "_", tag.upper()).strip("_")


_TITLE_FIELD_TAGS: dict[str, tuple[str, ...]] = {
    "drawing_number": (
        "DWG_NO", "DWG_NR", "DWG_NUM", "DWG_NUMBER", "DWGNO", "DRAWING_NO", "DRAWING_NR", "DRAWING_NUM",
        "DRAWING_NUMBER", "DRAWINGNUMBER", "DRG_NO", "DRW_NO", "DOC_NO", "DOCUMENT_NO", "DOCUMENT_NUMBER",
    ),
    "title": ("TITLE", "DWG_TITLE", "DRAWING_TITLE"),
    "revision": ("REV", "REV_NO", "REVISION", "REVISION_NO"),
    "date": ("DATE", "DWG_DATE", "DRAWN_DATE", "ISSUE_DATE"),
    "author": ("DRAWN_BY", "DRAWN", "DRN_BY", "DWN_BY", "DRAFTER", "AUTHOR", "DESIGNER", "DESIGNED_BY", "CREATED_BY"),
    "company": ("COMPANY", "COMPANY_NAME", "ORGANIZATION", "ORGANISATION", "FIRM"),
    "scale": ("SCALE", "DWG_SCALE"),
    "sheet": ("SHEET", "SHEET_NO", "SHEET_NUMBER", "SHT", "SHT_NO"),
    "material": ("MATERIAL", "MATL", "MAT"),
    "finish": ("FINISH", "SURFACE_FINISH"),
}  # fmt: skip
_TITLE_FIELD_OF_TAG: dict[str, str] = {tag: field for field, tags in _TITLE_FIELD_TAGS.items() for tag in tags}
# Material and finish label parts lists as much as title blocks; they do not make a block a title block.
_PART_LEVEL_FIELDS = frozenset({"material", "finish"})
_MIN_TITLE_FIELDS = 2

_BOM_TAGS = frozenset({
    "ITEM", "ITEM_NO", "ITEM_NUMBER", "POS", "POS_NO", "POSITION", "PART", "PART_NO", "PART_NUMBER", "PARTNO",
    "PN", "QTY", "QUANTITY", "DESCRIPTION", "DESC", "MATERIAL", "MATL",
})  # fmt: skip
_BOM_IDENTIFYING_TAGS = frozenset(_BOM_TAGS - {"DESCRIPTION", "DESC", "MATERIAL", "MATL"})
_MIN_BOM_TAGS = 2


def _title_fields(attributes: list[BlockAttribute]) -> set[str]:
    fields = {_TITLE_FIELD_OF_TAG.get(_normalized_tag(a.tag)) for a in attributes}
    return {field for field in fields if field is not None and field not in _PART_LEVEL_FIELDS}


def _is_title_block(attributes: list[BlockAttribute]) -> bool:
    fields = _title_fields(attributes)
    return len(fields) >= _MIN_TITLE_FIELDS or "drawing_number" in fields


def _title_block_from_attributes(attributed: list[list[BlockAttribute]]) -> list[BlockAttribute] | None:
    """The insert with the most title-block fields (the first on a tie), if any looks like a title block."""
    candidates = [attributes for attributes in attributed if _is_title_block(attributes)]
    return max(candidates, key=lambda attributes: len(_title_fields(attributes)), default=None)


def _title_block(attributes: list[BlockAttribute]) -> TitleBlock:
    fields: dict[str, str] = {}
    custom: dict[str, str] = {}
    for attribute in attributes:
        value = attribute.value.strip()
        field = _TITLE_FIELD_OF_TAG.get(_normalized_tag(attribute.tag))
        if field is None:
            custom[attribute.tag] = value
        elif value and field not in fields:
            fields[field] = value
    return TitleBlock(**fields, custom_fields=custom)


# Labelled texts: "SCALE: 1:2" or a label text with its value to the right or below it.
_TITLE_REGION = 0.5  # the bottom-right part of the layout: right of this fraction of the width, below of the height
_VALUE_RIGHT_REACH = 20.0  # text heights
_VALUE_BELOW_REACH = 3.0


def _title_block_from_texts(
    texts: list[_Text], layout_boxes: dict[str, tuple[float, float, float, float]]
) -> TitleBlock | None:
    fields: dict[str, str] = {}
    custom: dict[str, str] = {}
    for layout, box in layout_boxes.items():
        region = [t for t in texts if t.layout == layout and _in_title_region(t, box)]
        for text in region:
            for field, label, value in _labelled_values(text, region):
                if field is None:
                    custom.setdefault(label, value)
                else:
                    fields.setdefault(field, value)
    title_fields = set(fields) - _PART_LEVEL_FIELDS
    if len(title_fields) < _MIN_TITLE_FIELDS and "drawing_number" not in title_fields:
        return None
    return TitleBlock(**fields, custom_fields=custom)


def _in_title_region(text: _Text, box: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = box
    return text.box[0] >= x0 + _TITLE_REGION * (x1 - x0) and text.box[1] <= y0 + _TITLE_REGION * (y1 - y0)


def _label_field(text: str) -> str | None:
    return _TITLE_FIELD_OF_TAG.get(_normalized_tag(text))


def _labelled_values(text: _Text, region: list[_Text]) -> Iterator[tuple[str | None, str, str]]:
    """(field, label, value) of a labelled text; field None for an unknown label (a custom field).

    A text holding several labels (``DWG NO: BM-0000   REV: B   SCALE: 1:2``) gives each of them, its unknown
    labels included when it has a known one; otherwise only a known label counts: ``LABEL: value``, or a label
    with its value in the nearest text to its right or below.
    """
    fields = _split_fields(text.text)
    if fields is not None:
        if any(f.field is not None for f in fields):
            yield from ((f.field, f.label, f.value) for f in fields)
        return
    label, colon, rest = text.text.partition(":")
    field = _label_field(label)
    if field is None:
        return
    if colon and rest.strip():
        yield field, label, rest.strip()
        return
    value = _value_next_to(text, region)
    if value is not None:
        yield field, label, value.text.strip()


# Several labels in one text, cut by the rules of ``title_fields`` with this module's label vocabulary
# (``_TITLE_FIELD_TAGS``, words separated by spaces or . _ ' / # -); a line break separates fields as a wide gap
# (two or more spaces) does.
def _tag_pattern(tag: str) -> str:
    return r"[ \t._'/#-]+".join(re.escape(word) for word in tag.split("_")) + r"\.?"


def _name_label(label: str, known: bool) -> tuple[str | None, str]:
    """(TitleBlock field, None for an unknown label; the label as written, upper case)."""
    return _label_field(label) if known else None, " ".join(label.upper().split())


_split_fields = FieldSplitter(
    (_tag_pattern(tag) for tag in sorted(_TITLE_FIELD_OF_TAG, key=len, reverse=True)),
    _name_label,
    line_break_is_gap=True,  # MTEXT lines: a line break separates fields, a label never reaches over one
).split


def _value_next_to(label: _Text, region: list[_Text]) -> _Text | None:
    """The nearest non-label text on the label's line to its right, or just below it."""
    height = label.height or max(label.box[3] - label.box[1], 1e-9)
    x, y = label.box[0], label.box[1]
    best: tuple[float, _Text] | None = None
    for other in region:
        labelled = _label_field(other.text.partition(":")[0]) is not None or _split_fields(other.text) is not None
        if other is label or labelled:
            continue
        dx, dy = other.box[0] - x, other.box[1] - y
        right = label.box[2] <= other.box[0] and dx <= _VALUE_RIGHT_REACH * height and abs(dy) <= height
        below = -_VALUE_BELOW_REACH * height <= dy < 0 and abs(dx) <= _VALUE_RIGHT_REACH * height
        distance = math.hypot(dx, dy)
        if (right or below) and (best is None or distance < best[0]):
            best = (distance, other)
    return None if best is None else best[1]


# --- bill of materials -----------------------------------------------------------------------------------


def _is_part(attributes: list[BlockAttribute]) -> bool:
    tags = {_normalized_tag(a.tag) for a in attributes}
    return len(tags & _BOM_TAGS) >= _MIN_BOM_TAGS and bool(tags & _BOM_IDENTIFYING_TAGS)


def _bom(attributed: list[list[BlockAttribute]]) -> Bom | None:
    parts = [attributes for attributes in attributed if _is_part(attributes) and not _is_title_block(attributes)]
    if not parts:
        return None
    headers: dict[str, None] = {}  # ordered set: tags in order of first appearance
    items = []
    for attributes in parts:
        headers.update(dict.fromkeys(a.tag for a in attributes))
        items.append({a.tag: a.value for a in attributes})
    return Bom(headers=list(headers), items=items, total_items=len(items))


# --- geometry, extents, metadata -------------------------------------------------------------------------

_GEOMETRY_CATEGORY: dict[str, str] = {
    "LINE": "lines",
    "CIRCLE": "circles",
    "ARC": "arcs",
    "LWPOLYLINE": "polylines",
    "POLYLINE": "polylines",
    "SPLINE": "splines",
    "ELLIPSE": "ellipses",
    "POINT": "points",
    "HATCH": "hatches",
    "SOLID": "solids",
    "3DSOLID": "solids",
    "3DFACE": "solids",
    "MESH": "meshes",
    "TEXT": "texts",
    "MTEXT": "texts",
    "DIMENSION": "dimensions",
    "ARC_DIMENSION": "dimensions",
    "LARGE_RADIAL_DIMENSION": "dimensions",
    "INSERT": "inserts",
}


def _geometry_summary(placed: list[_Placed]) -> GeometrySummary:
    counts = Counter(_GEOMETRY_CATEGORY.get(item.entity.dxftype(), "other") for item in placed)
    return GeometrySummary(**counts, total=len(placed))


_UNSET_EXTENT = 1e19  # ezdxf and AutoCAD write ±1e20 for "never computed"


def _layout_box(
    entities: Iterable[DXFGraphic], cache: ezdxf_bbox.Cache
) -> tuple[float, float, float, float, float, float] | None:
    box = ezdxf_bbox.BoundingBox()
    drawable = []
    for entity in entities:
        # ezdxf draws a DIMENSION from its geometry block; without one, its definition points bound it
        if isinstance(entity, DxfDimension) and entity.get_geometry_block() is None:
            box.extend(_defpoints(entity))
        else:
            drawable.append(entity)
    try:
        box = box.union(ezdxf_bbox.extents(drawable, fast=True, cache=cache))
    except (DXFError, ValueError, TypeError, ArithmeticError, AttributeError):
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


def _extents(doc: Drawing, cache: ezdxf_bbox.Cache, units: _Units) -> tuple[Extents | None, str | None]:
    """Modelspace extents computed from the geometry, else the header's when they are set."""
    box, source = _layout_box(doc.modelspace(), cache), "computed"
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


def _json_value(name: str, value: Any) -> Any:
    if name in _JULIAN_DATES and isinstance(value, (int, float)):
        try:
            return calendardate(float(value)).isoformat()
        except (ValueError, OverflowError):
            return value
    if isinstance(value, (str, int, float, bool)):
        return value
    return [float(v) for v in value]  # points (Vec2/Vec3/tuples)


def _metadata(doc: Drawing, placed: list[_Placed], units: _Units, extents_source: str | None) -> dict[str, Any]:
    measurement = doc.header.get("$MEASUREMENT")
    metadata: dict[str, Any] = {
        "dxf_version": doc.dxfversion,
        "acad_release": doc.acad_release,
        "encoding": doc.encoding,
        "insunits": units.insunits,
        "drawing_units": units.drawing_unit,
        "measurement": measurement,
        "measurement_system": {0: "imperial", 1: "metric"}.get(measurement) if measurement is not None else None,
        "layouts": _layout_counts(doc, placed),
        "header": _header_of_interest(doc),
        "extents_source": extents_source,
    }
    if units.factor != 1.0 or units.unit != units.drawing_unit:
        metadata["converted_to"] = units.unit
        metadata["conversion_factor"] = units.factor
    return metadata


# --- the extractor ---------------------------------------------------------------------------------------


def extract(path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    doc, warnings = _load_document(path, source.filename)
    units, unit_warnings = _resolve_units(doc, options)
    placed = _layout_entities(doc)
    cache = ezdxf_bbox.Cache()

    layers, layer_warnings = _layers(doc, placed)
    dimensions, dimension_warnings = _dimensions(placed, units)
    texts = _texts(placed, cache)
    text_blocks = _text_blocks(texts, units)
    annotations = _annotations(text_blocks, placed, dimensions, units)
    inserts = _all_inserts(doc, placed)
    attributed = [
        attributes for item in placed if isinstance(item.entity, Insert) if (attributes := _attributes(item.entity))
    ]
    extents, extents_source = _extents(doc, cache, units)

    return ExtractionResult(
        format=FileFormat.DXF,
        extractor_version=VERSION,
        source=source,
        metadata=_metadata(doc, placed, units, extents_source),
        warnings=[*warnings, *unit_warnings, *layer_warnings, *dimension_warnings],
        text_blocks=text_blocks,
        dimensions=[*dimensions, *annotations.dimensions],
        gdt=annotations.gdt,
        threads=annotations.threads,
        surface_finishes=annotations.surface_finishes,
        title_block=_find_title_block(doc, attributed, texts, cache),
        bom=_bom(attributed),
        layers=layers,
        blocks=_blocks(doc, inserts, units),
        geometry_summary=_geometry_summary(placed),
        extents=extents,
        units=units.unit,
    )


def _find_title_block(
    doc: Drawing, attributed: list[list[BlockAttribute]], texts: list[_Text], cache: ezdxf_bbox.Cache
) -> TitleBlock | None:
    """From an attributed title-block insert, failing that from labelled texts in the bottom-right."""
    title_attributes = _title_block_from_attributes(attributed)
    if title_attributes is not None:
        return _title_block(title_attributes)
    return _title_block_from_texts(texts, _text_layout_boxes(doc, texts, cache))


def _text_layout_boxes(
    doc: Drawing, texts: list[_Text], cache: ezdxf_bbox.Cache
) -> dict[str, tuple[float, float, float, float]]:
    """The 2D extents of each layout that has text (the frame the title-block region is relative to)."""
    boxes = {}
    for name in dict.fromkeys(text.layout for text in texts):
        box = _layout_box(doc.layouts.get(name), cache)
        if box is not None:
            boxes[name] = (box[0], box[1], box[3], box[4])
    return boxes
