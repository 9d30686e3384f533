"""IFC (BIM) extractor, on ifcopenshell.

Reads the spatial hierarchy (project → site → building → storey → space), counts products (elements and
spatial elements) by their exact class (``entity.is_a()``, so an IfcWallStandardCase is never also counted
as an IfcWall), and lists elements with their type, storey, materials, property sets and quantity sets
through ``ifcopenshell.util.element``. The per-element list is capped by ``options["max_elements"]``; the
counts always cover the whole model.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.util.element
import ifcopenshell.util.unit

from extraction_pipeline.errors import CorruptFileError
from extraction_pipeline.extractors.schema import (
    ExtractionResult,
    FileFormat,
    IfcElement,
    IfcModel,
    IfcSpatialNode,
    SourceInfo,
)

VERSION = "1.0.0"

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
        elements=[_element(element) for element in all_elements[:max_elements]],
        materials=_unique(material.Name for material in model.by_type("IfcMaterial") if material.Name),
        types=_type_occurrences(model),
    )
    return ExtractionResult(
        format=FileFormat.IFC,
        extractor_version=VERSION,
        source=source,
        metadata=_metadata(model),
        warnings=warnings,
        units=_length_unit(model, warnings),
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


def _element(element: ifcopenshell.entity_instance) -> IfcElement:
    element_type = ifcopenshell.util.element.get_type(element)
    storey = ifcopenshell.util.element.get_container(element, ifc_class="IfcBuildingStorey")
    return IfcElement(
        ifc_class=element.is_a(),
        global_id=element.GlobalId,
        name=element.Name,
        type_name=element_type.Name if element_type is not None else None,
        storey=storey.Name if storey is not None else None,
        materials=_unique(m.Name for m in ifcopenshell.util.element.get_materials(element) if m.Name),
        property_sets=_property_sets(ifcopenshell.util.element.get_psets(element, psets_only=True)),
        quantities=_property_sets(ifcopenshell.util.element.get_psets(element, qtos_only=True)),
    )


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


def _length_unit(model: ifcopenshell.file, warnings: list[str]) -> str | None:
    """The project's length unit; when the project assigns none (its UnitsInContext is empty) but the file
    holds a unit assignment anyway, that one, with a warning saying so."""
    unit = ifcopenshell.util.unit.get_project_unit(model, "LENGTHUNIT")
    if unit is None:
        unit = next(
            (
                candidate
                for assignment in model.by_type("IfcUnitAssignment")
                for candidate in assignment.Units
                if getattr(candidate, "UnitType", None) == "LENGTHUNIT"
            ),
            None,
        )
        if unit is None:
            return None
        warnings.append("the IfcProject assigns no units; the length unit is read from an unattached IfcUnitAssignment")
    return ifcopenshell.util.unit.get_unit_symbol(unit)


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
