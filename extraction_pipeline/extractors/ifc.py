"""IFC (BIM) extractor, on ifcopenshell.

Reads the spatial hierarchy (project → site → building → storey → space), counts products (elements and
spatial elements) by their exact class (``entity.is_a()``, so an IfcWallStandardCase is never also counted
as an IfcWall), and lists elements with their type, storey, materials, property sets and quantity sets
through ``ifcopenshell.util.element``. The per-element list is capped by ``options["max_elements"]``; the
counts always cover the whole model.

Files from other tools are read as they are: a property, quantity or property set without a ``Name`` (the
schema allows ``$``) is listed as ``"unnamed #<instance id>"`` with a warning counting them; a fragment without
an IfcProject or units completes with warnings; a schema this build's ifcopenshell cannot read is an
``UnsupportedIfcSchemaError`` naming the schemas it does read. Units (length, area, volume, angle, solid angle)
are named in the one vocabulary of ``extractors/units.py`` (``ft``, ``in``, ``ft2``, ``m3``, ``deg`` …) with
their scale to SI, read from the file's own conversion factors.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.ifcopenshell_wrapper
import ifcopenshell.util.element
import ifcopenshell.util.unit

from extraction_pipeline.errors import CorruptFileError, UnsupportedIfcSchemaError
from extraction_pipeline.extractors import units as unit_vocabulary
from extraction_pipeline.extractors.schema import (
    ExtractionResult,
    FileFormat,
    IfcElement,
    IfcModel,
    IfcSpatialNode,
    SourceInfo,
)

VERSION = "1.1.0"

DEFAULT_MAX_ELEMENTS = 5000
_SPF_MAGIC = b"ISO-10303-21"
_SPF_END = b"END-ISO-10303-21"
_TAIL_BYTES = 4096


def extract(path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    model = _open(path, source.filename)
    try:
        return _extract_model(model, source, options)
    except (RuntimeError, ValueError) as exc:  # ifcopenshell on a dangling reference or a mistyped attribute
        raise CorruptFileError(f"{source.filename} is not a valid IFC model: {exc}") from exc


def _extract_model(model: ifcopenshell.file, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    max_elements = int(options.get("max_elements", DEFAULT_MAX_ELEMENTS))
    warnings: list[str] = []

    projects = model.by_type("IfcProject")
    if not projects:
        warnings.append(f"{source.filename} has no IfcProject: no spatial hierarchy to read")
    project = projects[0] if projects else None
    _name_unnamed_definitions(model, warnings)
    units, unit_scales = _units(model, project, warnings)

    # by_type groups by class; file order keeps the capped list a stable prefix of the model
    all_elements = sorted(model.by_type("IfcElement"), key=lambda element: element.id())
    if len(all_elements) > max_elements:
        warnings.append(
            f"{len(all_elements)} elements; details listed for the first {max_elements} only "
            "(element_counts cover all of them)"
        )

    ifc = IfcModel(
        schema_identifier=model.schema_identifier,
        project_name=project.Name if project is not None else None,
        hierarchy=[_spatial_node(project, set())] if project is not None else [],
        element_counts=_exact_class_counts(model.by_type("IfcProduct")),
        elements=_elements(all_elements[:max_elements], warnings),
        materials=_unique(material.Name for material in model.by_type("IfcMaterial") if material.Name),
        types=_type_occurrences(model),
        units=units,
        unit_scales=unit_scales,
    )
    return ExtractionResult(
        format=FileFormat.IFC,
        extractor_version=VERSION,
        source=source,
        metadata=_metadata(model),
        warnings=warnings,
        units=units.get("length"),
        ifc=ifc,
    )


_INSTANCE_ID = re.compile(rb"#(\d+)\s*=")


def _open(path: Path, filename: str) -> ifcopenshell.file:
    """Open the model. A parser complaint, a cut-off SPF file, or one whose parse stopped early (ifcopenshell
    loads both silently up to the cut or the first syntax error) becomes a CorruptFileError naming the file."""
    last_instance: int | None = None
    with path.open("rb") as stream:
        head = stream.read(len(_SPF_MAGIC) + 3).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(_SPF_MAGIC):
            stream.seek(0, 2)
            stream.seek(max(0, stream.tell() - _TAIL_BYTES))
            tail = stream.read()
            if _SPF_END not in tail:
                raise CorruptFileError(f"{filename} is truncated: the IFC file has no END-ISO-10303-21 line")
            ids = _INSTANCE_ID.findall(tail)
            last_instance = int(ids[-1]) if ids else None
    try:
        model = ifcopenshell.open(str(path))
    except ifcopenshell.SchemaError as exc:
        raise _schema_error(path, filename, exc) from exc
    except (ifcopenshell.Error, RuntimeError, OSError, ValueError) as exc:
        raise CorruptFileError(f"{filename} cannot be read as IFC: {exc}") from exc
    if last_instance is not None:
        try:
            model.by_id(last_instance)
        except RuntimeError as exc:
            raise CorruptFileError(
                f"{filename} cannot be read as IFC: the parser stopped before instance #{last_instance} "
                "near the end of the file (a syntax error in the DATA section)"
            ) from exc
    return model


_FILE_SCHEMA = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)
_HEADER_BYTES = 65536


def _schema_error(path: Path, filename: str, exc: Exception) -> Exception:
    """An IFC schema this build cannot read is said to be one (the file may be fine); anything else that
    ifcopenshell calls a schema problem is a damaged or foreign file."""
    with path.open("rb") as stream:
        match = _FILE_SCHEMA.search(stream.read(_HEADER_BYTES))
    declared = match.group(1).decode("ascii", "replace").strip() if match else ""
    if not declared.upper().startswith("IFC"):
        return CorruptFileError(f"{filename} cannot be read as IFC: {exc}")
    readable = ", ".join(readable_schemas())
    return UnsupportedIfcSchemaError(f"{filename}: unsupported IFC schema {declared} (this build reads {readable})")


def readable_schemas() -> list[str]:
    """The IFC schemas compiled into the installed ifcopenshell (IFC2X3, IFC4, IFC4X3_ADD2 in 0.8)."""
    names = ifcopenshell.ifcopenshell_wrapper.schema_names()
    return [name for name in names if name.upper().startswith("IFC")]


def _is_spatial(entity: ifcopenshell.entity_instance) -> bool:
    # IfcSpatialElement is IFC4+; IFC2X3 only has IfcSpatialStructureElement (is_a is False for both there
    # when the class is unknown to the schema).
    return entity.is_a("IfcSpatialElement") or entity.is_a("IfcSpatialStructureElement")


def _spatial_children(node: ifcopenshell.entity_instance) -> list[ifcopenshell.entity_instance]:
    children: list[ifcopenshell.entity_instance] = []
    for rel in getattr(node, "IsDecomposedBy", None) or ():
        if rel.is_a("IfcRelAggregates"):
            children.extend(child for child in rel.RelatedObjects if _is_spatial(child))
    # Some authoring tools contain spaces in a storey instead of aggregating them.
    for rel in getattr(node, "ContainsElements", None) or ():
        children.extend(child for child in rel.RelatedElements if _is_spatial(child))
    return sorted(children, key=_spatial_order)


def _spatial_order(entity: ifcopenshell.entity_instance) -> tuple[float, int]:
    elevation = _elevation(entity)
    return (elevation if elevation is not None else float("-inf"), entity.id())


def _elevation(entity: ifcopenshell.entity_instance) -> float | None:
    elevation = entity.Elevation if entity.is_a("IfcBuildingStorey") else None
    return float(elevation) if isinstance(elevation, (int, float)) else None


def _spatial_node(entity: ifcopenshell.entity_instance, seen: set[int]) -> IfcSpatialNode:
    seen.add(entity.id())  # a broken file can aggregate in a cycle
    return IfcSpatialNode(
        ifc_class=entity.is_a(),
        global_id=entity.GlobalId,
        name=entity.Name,
        elevation=_elevation(entity),
        children=[_spatial_node(child, seen) for child in _spatial_children(entity) if child.id() not in seen],
    )


def _exact_class_counts(products: Iterable[ifcopenshell.entity_instance]) -> dict[str, int]:
    # by_type("IfcWall") also returns IfcWallStandardCase; counting is_a() of each instance once does not.
    counts = Counter(product.is_a() for product in products)
    return dict(sorted(counts.items()))


# what ifcopenshell raises on a value of the wrong type deep in a set (an entity where a measure belongs, …)
_UNREADABLE = (RuntimeError, ValueError, TypeError, AttributeError, AssertionError)


def _elements(elements: list[ifcopenshell.entity_instance], warnings: list[str]) -> list[IfcElement]:
    """The listed elements; sets ifcopenshell cannot read are left out of their element, with a warning."""
    skipped: Counter[str] = Counter()
    listed: list[IfcElement] = []
    for element in elements:
        try:
            listed.append(_element(element, skipped))
        except _UNREADABLE:
            skipped["type, storey or materials"] += 1
            listed.append(IfcElement(ifc_class=element.is_a(), global_id=element.GlobalId, name=element.Name))
    for what, count in skipped.items():
        warnings.append(f"the {what} of {count} element(s) cannot be read (a value of the wrong type); left out")
    return listed


def _element(element: ifcopenshell.entity_instance, skipped: Counter[str]) -> IfcElement:
    element_type = ifcopenshell.util.element.get_type(element)
    storey = ifcopenshell.util.element.get_container(element, ifc_class="IfcBuildingStorey")
    return IfcElement(
        ifc_class=element.is_a(),
        global_id=element.GlobalId,
        name=element.Name,
        type_name=element_type.Name if element_type is not None else None,
        storey=storey.Name if storey is not None else None,
        materials=_unique(m.Name for m in ifcopenshell.util.element.get_materials(element) if m.Name),
        property_sets=_readable_sets(element, "property sets", skipped, psets_only=True),
        quantities=_readable_sets(element, "quantity sets", skipped, qtos_only=True),
    )


def _readable_sets(
    element: ifcopenshell.entity_instance, what: str, skipped: Counter[str], **which: bool
) -> dict[str, dict[str, Any]]:
    try:
        return _property_sets(ifcopenshell.util.element.get_psets(element, **which))
    except _UNREADABLE:
        skipped[what] += 1
        return {}


def _property_sets(psets: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """get_psets output without its internal ``id`` keys, made JSON-safe."""
    return {
        name: {key: _json_value(value) for key, value in properties.items() if key != "id"}
        for name, properties in psets.items()
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items() if key != "id"}
    if isinstance(value, (list, tuple, set)):
        return [_json_value(item) for item in value]
    if isinstance(value, ifcopenshell.entity_instance):
        # reference properties point at other entities; keep what a reader can recognise
        return getattr(value, "Name", None) or str(value)
    return str(value)


def _type_occurrences(model: ifcopenshell.file) -> dict[str, int]:
    """``"<type class>:<type name>"`` → number of occurrences typed by it (GlobalId when unnamed or when two
    types of a class share a name, so no count is merged into another)."""
    occurrences: dict[str, int] = {}
    for type_object in model.by_type("IfcTypeObject"):
        key = f"{type_object.is_a()}:{type_object.Name or type_object.GlobalId}"
        if key in occurrences:
            key = f"{key} ({type_object.GlobalId})"
        occurrences[key] = len(ifcopenshell.util.element.get_types(type_object))
    return occurrences


_NAMED_DEFINITIONS = {  # class -> (singular, plural) in the warning
    "IfcPhysicalQuantity": ("quantity", "quantities"),
    "IfcProperty": ("property", "properties"),
    "IfcPropertySetDefinition": ("property or quantity set", "property or quantity sets"),
}


def _name_unnamed_definitions(model: ifcopenshell.file, warnings: list[str]) -> None:
    """Give every quantity, property and property set whose Name is unset (``$``, which the schema allows) the
    stable name ``"unnamed #<instance id>"`` in the loaded model, so that none is merged with another or
    rejects the result, and count them in a warning."""
    found: list[str] = []
    for ifc_class, (singular, plural) in _NAMED_DEFINITIONS.items():
        unnamed = [definition for definition in model.by_type(ifc_class) if definition.Name is None]
        for definition in unnamed:
            definition.Name = f"unnamed #{definition.id()}"
        if unnamed:
            found.append(f"{len(unnamed)} {singular if len(unnamed) == 1 else plural}")
    if found:
        warnings.append(f"{', '.join(found)} without a Name (the schema allows it): listed as 'unnamed #<instance id>'")


_UNIT_KINDS = {
    "LENGTHUNIT": "length",
    "AREAUNIT": "area",
    "VOLUMEUNIT": "volume",
    "PLANEANGLEUNIT": "angle",
    "SOLIDANGLEUNIT": "solid_angle",
}


def _units(
    model: ifcopenshell.file, project: ifcopenshell.entity_instance | None, warnings: list[str]
) -> tuple[dict[str, str], dict[str, float]]:
    """Symbols and SI scales of the length, area, volume and angle units the project assigns."""
    assignment = _unit_assignment(model, project, warnings)
    symbols: dict[str, str] = {}
    scales: dict[str, float] = {}
    for unit in assignment.Units if assignment is not None else ():
        kind = _UNIT_KINDS.get(str(getattr(unit, "UnitType", "")))
        if kind is None or kind in symbols:
            continue
        symbol, scale = _unit_symbol_and_scale(unit, warnings)
        symbols[kind] = symbol
        if scale is not None:
            scales[kind] = scale
    if assignment is not None and "length" not in symbols:
        warnings.append("the unit assignment names no length unit: lengths are in unknown units")
    return symbols, scales


def _unit_assignment(
    model: ifcopenshell.file, project: ifcopenshell.entity_instance | None, warnings: list[str]
) -> ifcopenshell.entity_instance | None:
    """The project's IfcUnitAssignment; when the project has none (or there is no project) but the file holds
    one anyway, that one, with a warning saying so."""
    if project is not None and project.UnitsInContext is not None:
        return project.UnitsInContext
    assignments = model.by_type("IfcUnitAssignment")
    owner = "the IfcProject assigns" if project is not None else "without an IfcProject, the file assigns"
    if not assignments:
        warnings.append(f"{owner} no units: lengths, areas and volumes are in unknown units")
        return None
    warnings.append(f"{owner} no units; they are read from an unattached IfcUnitAssignment")
    return assignments[0]


def _unit_symbol_and_scale(unit: ifcopenshell.entity_instance, warnings: list[str]) -> tuple[str, float | None]:
    if unit.is_a("IfcSIUnit"):
        return unit_vocabulary.si_unit(unit.Prefix, str(unit.Name))
    if unit.is_a("IfcDerivedUnit"):
        return ifcopenshell.util.unit.get_derived_unit_symbol(unit), _file_scale(unit)
    name = str(unit.Name or "").strip()
    known = unit_vocabulary.named_unit(name)
    if unit.is_a("IfcConversionBasedUnit"):
        scale = _file_scale(unit)
        if known is not None:
            return known[0], scale if scale is not None else known[1]
        warnings.append(f"the {str(unit.UnitType).lower()} unit {name!r} is not one this extractor names")
        return name, scale
    if known is not None:  # an IfcContextDependentUnit named like a known unit
        return known
    warnings.append(f"the {str(unit.UnitType).lower()} unit {name!r} has no conversion to SI")
    return name, None


def _file_scale(unit: ifcopenshell.entity_instance) -> float | None:
    """What one ``unit`` is in SI, from the file's own conversion factors (None when they cannot be read)."""
    try:
        return float(f"{ifcopenshell.util.unit.get_unit_scale(unit):.12g}")
    except (AttributeError, TypeError, ValueError, RuntimeError):
        return None


def _metadata(model: ifcopenshell.file) -> dict[str, Any]:
    header = model.header
    return {
        "schema": model.schema_identifier,
        "file_description": list(header.file_description.description),
        "file_name": header.file_name.name or None,
        "timestamp": header.file_name.time_stamp or None,
        "author": [author for author in header.file_name.author if author],
        "organization": [org for org in header.file_name.organization if org],
        "preprocessor_version": header.file_name.preprocessor_version or None,
        "originating_system": header.file_name.originating_system or None,
        "entity_count": len(model.entity_names()),
    }


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
