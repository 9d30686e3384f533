"""STEP (ISO 10303-21) extractor: header, products, assembly tree and units, read as a stream.

The file is read in chunks and split into statements by ``step_reader`` (our own Part-21 reader: the only
parser on PyPI that is not a CAD kernel loads the whole file first); this module counts every entity
instance, but parses and keeps only the few entity types it reports: PRODUCT,
PRODUCT_DEFINITION_FORMATION, PRODUCT_DEFINITION, NEXT_ASSEMBLY_USAGE_OCCURRENCE, product categories,
MAKE_FROM_USAGE_OPTION and the unit and measure entities. Memory therefore grows with the number of products
and assembly links, not with the size of the file.

Units are named in the one vocabulary of ``extractors/units.py`` (``mm``, ``m``, ``in``, ``ft``, ``rad``,
``deg``, ``sr``) with their scale to SI (a conversion-based unit's from its own measure). Products that are
materials (AP214 category "material"/"raw material", a PRODUCT_CONTEXT of discipline "material", or the stock
a part is made from through MAKE_FROM_USAGE_OPTION) are tagged ``is_material`` and are not assembly roots.

Geometry (solids, volume, area, bounding box) is read by ``step_geometry`` when the optional ``OCP`` package
is importable; without it the result says geometry was not computed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from extraction_pipeline.errors import ConfigurationError, CorruptFileError, EmptyFileError
from extraction_pipeline.extractors import units as unit_vocabulary
from extraction_pipeline.extractors.schema import (
    ExtractionResult,
    FileFormat,
    SourceInfo,
    StepAssemblyNode,
    StepHeader,
    StepModel,
    StepProduct,
)
from extraction_pipeline.extractors.step_geometry import measure_geometry
from extraction_pipeline.extractors.step_reader import (
    EnumValue,
    Ref,
    StepSyntaxError,
    Typed,
    iter_statements,
    parse_complex,
    parse_record,
)

VERSION = "1.1.0"

_CHUNK_BYTES = 1 << 20  # read size of the stream (the tests make it small)
_MAX_TREE_NODES = 10_000  # a sub-assembly used in many places is expanded under each; stop runaway trees
_MAGIC = "ISO-10303-21"
_END = "END-ISO-10303-21"


# --- collecting ----------------------------------------------------------------------------------------

_INSTANCE = re.compile(rb"#(\d+)\s*=\s*(\(|[A-Za-z_][A-Za-z0-9_]*)")

_FORMATIONS = {"PRODUCT_DEFINITION_FORMATION", "PRODUCT_DEFINITION_FORMATION_WITH_SPECIFIED_SOURCE"}
_DEFINITIONS = {"PRODUCT_DEFINITION", "PRODUCT_DEFINITION_WITH_ASSOCIATED_DOCUMENTS"}
_NAUO = "NEXT_ASSEMBLY_USAGE_OCCURRENCE"
_CATEGORY = "PRODUCT_RELATED_PRODUCT_CATEGORY"
_CONTEXT = "PRODUCT_CONTEXT"  # its discipline_type may say "material"
_MAKE_FROM = "MAKE_FROM_USAGE_OPTION"  # a part (relating) made from stock material (related)
_MEASURES = {
    "MEASURE_WITH_UNIT",
    "LENGTH_MEASURE_WITH_UNIT",
    "PLANE_ANGLE_MEASURE_WITH_UNIT",
    "SOLID_ANGLE_MEASURE_WITH_UNIT",
}
_SIMPLE_OF_INTEREST = {
    name.encode()
    for name in ("PRODUCT", _CONTEXT, _NAUO, _CATEGORY, _MAKE_FROM, *_FORMATIONS, *_DEFINITIONS, *_MEASURES)
}
# AP214's recommended product categories name raw material "raw material"; other writers say "material"
_MATERIAL_CATEGORIES = {"material", "raw material", "raw_material", "stock", "stock material"}

_FACE_KINDS = {
    name.encode()
    for name in (
        "ADVANCED_FACE",
        "FACE_SURFACE",
        "ORIENTED_FACE",
        "TRIANGULATED_FACE",
        "COMPLEX_TRIANGULATED_FACE",
        "TRIANGULATED_SURFACE_SET",
        "COMPLEX_TRIANGULATED_SURFACE_SET",
    )
}
_UNIT_KINDS = {"LENGTH_UNIT": "length", "PLANE_ANGLE_UNIT": "angle", "SOLID_ANGLE_UNIT": "solid_angle"}
_MAX_CONVERSION_DEPTH = 8  # a conversion-based unit defined through another one; stops reference cycles


@dataclass
class _Unit:
    kind: str  # "length", "angle", "solid_angle"
    symbol: str
    scale: float | None  # one unit in SI: exact for SI units, the vocabulary's for a known conversion name
    measure: int | None = None  # a conversion-based unit's *_MEASURE_WITH_UNIT: its scale, when readable
    named: bool = True  # False: a conversion name outside the vocabulary, kept as written


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and not isinstance(value, EnumValue) and value != "" else None


def _texts(value: Any) -> list[str]:
    return [item for item in value if _text(item)] if isinstance(value, list) else []


@dataclass
class _Collected:
    """What the stream leaves behind: only the entities the result needs."""

    header: StepHeader = field(default_factory=StepHeader)
    entity_count: int = 0
    face_count: int = 0  # B-rep and tessellated faces: whether OpenCascade has any geometry to build
    products: dict[int, StepProduct] = field(default_factory=dict)
    formation_product: dict[int, int] = field(default_factory=dict)
    definition_formation: dict[int, int] = field(default_factory=dict)
    usages: list[tuple[int, int, int]] = field(default_factory=list)  # (NAUO id, parent PD, child PD)
    units: dict[int, _Unit] = field(default_factory=dict)
    context_units: list[int] = field(default_factory=list)
    measures: dict[int, tuple[float, int]] = field(default_factory=dict)  # id -> (value, unit id)
    material_products: set[int] = field(default_factory=set)  # by category
    material_contexts: set[int] = field(default_factory=set)  # PRODUCT_CONTEXTs of discipline "material"
    product_contexts: dict[int, list[int]] = field(default_factory=dict)  # PRODUCT -> its frame_of_reference
    made_from_definitions: set[int] = field(default_factory=set)  # stock of MAKE_FROM_USAGE_OPTION

    def add_header(self, record: Typed) -> None:
        args = record.args
        if record.name == "FILE_DESCRIPTION" and len(args) >= 2:
            self.header.description = _texts(args[0])
            self.header.implementation_level = _text(args[1])
        elif record.name == "FILE_NAME" and len(args) >= 7:
            self.header.file_name = _text(args[0])
            self.header.timestamp = _text(args[1])
            self.header.author = _texts(args[2])
            self.header.organization = _texts(args[3])
            self.header.preprocessor_version = _text(args[4])
            self.header.originating_system = _text(args[5])
            self.header.authorization = _text(args[6])
        elif record.name == "FILE_SCHEMA" and args:
            self.header.schema_identifiers = _texts(args[0])

    def add_simple(self, entity_id: int, record: Typed) -> None:
        args = record.args
        if record.name == "PRODUCT":
            self.products[entity_id] = StepProduct(
                entity_id=entity_id,
                id=_text(args[0]) or "",
                name=_text(args[1]),
                description=_text(args[2]),
            )
            if len(args) > 3 and isinstance(args[3], list):
                self.product_contexts[entity_id] = [int(ref) for ref in args[3] if isinstance(ref, Ref)]
        elif record.name == _CONTEXT:
            if len(args) > 2 and (_text(args[2]) or "").strip().lower() in _MATERIAL_CATEGORIES:
                self.material_contexts.add(entity_id)
        elif record.name in _FORMATIONS:
            self.formation_product[entity_id] = _ref(args[2], "of_product")
        elif record.name in _DEFINITIONS:
            self.definition_formation[entity_id] = _ref(args[2], "formation")
        elif record.name == _NAUO:
            parent = _ref(args[3], "relating_product_definition")
            self.usages.append((entity_id, parent, _ref(args[4], "related_product_definition")))
        elif record.name == _CATEGORY:
            if (_text(args[0]) or "").strip().lower() in _MATERIAL_CATEGORIES and isinstance(args[2], list):
                self.material_products.update(int(ref) for ref in args[2] if isinstance(ref, Ref))
        elif record.name == _MAKE_FROM:
            self.made_from_definitions.add(_ref(args[4], "related_product_definition"))
        elif record.name in _MEASURES:
            self._add_measure(entity_id, args)

    def _add_measure(self, entity_id: int, args: list[Any]) -> None:
        """``(value_component, unit_component)``; the value is typed (``LENGTH_MEASURE(25.4)``) or bare."""
        value = args[0].args[0] if isinstance(args[0], Typed) and args[0].args else args[0]
        if isinstance(value, (int, float)) and isinstance(args[1], Ref):
            self.measures[entity_id] = (float(value), int(args[1]))

    def add_complex(self, entity_id: int, parts: list[Typed]) -> None:
        by_name = {part.name: part.args for part in parts}
        if "GLOBAL_UNIT_ASSIGNED_CONTEXT" in by_name:
            units = by_name["GLOBAL_UNIT_ASSIGNED_CONTEXT"]
            self.context_units.extend(ref for ref in (units[0] if units else []) if isinstance(ref, Ref))
        kind = next((_UNIT_KINDS[name] for name in by_name if name in _UNIT_KINDS), None)
        if kind is None:
            if "MEASURE_WITH_UNIT" in by_name and len(by_name["MEASURE_WITH_UNIT"]) >= 2:
                self._add_measure(entity_id, by_name["MEASURE_WITH_UNIT"])
            return
        if "SI_UNIT" in by_name and len(by_name["SI_UNIT"]) >= 2:
            prefix, name = by_name["SI_UNIT"][:2]
            symbol, scale = unit_vocabulary.si_unit(prefix if isinstance(prefix, EnumValue) else None, str(name))
            self.units[entity_id] = _Unit(kind, symbol, scale)
        elif by_name.get("CONVERSION_BASED_UNIT"):
            args = by_name["CONVERSION_BASED_UNIT"]
            name = (_text(args[0]) or "").strip()
            measure = int(args[1]) if len(args) > 1 and isinstance(args[1], Ref) else None
            known = unit_vocabulary.named_unit(name)
            symbol, scale = known if known is not None else (name, None)
            self.units[entity_id] = _Unit(kind, symbol, scale, measure, named=known is not None)

    def assigned_units(self) -> dict[str, _Unit]:
        """The units the representation context assigns; a unit kind no context names falls back to the first
        unit of that kind in the file."""
        resolved: dict[str, _Unit] = {}
        for unit_id in self.context_units:
            if unit_id in self.units:
                resolved.setdefault(self.units[unit_id].kind, self.units[unit_id])
        for unit in self.units.values():
            resolved.setdefault(unit.kind, unit)
        return resolved

    def unit_scale(self, unit: _Unit, depth: int = 0) -> float | None:
        """One ``unit`` in SI: a conversion-based unit's own measure times its base unit's scale when both are
        readable, else the vocabulary's scale."""
        if unit.measure in self.measures and depth < _MAX_CONVERSION_DEPTH:
            value, base_id = self.measures[unit.measure]
            base = self.units.get(base_id)
            base_scale = self.unit_scale(base, depth + 1) if base is not None else None
            if base_scale is not None:
                return float(f"{value * base_scale:.12g}")
        return unit.scale


def _ref(value: Any, attribute: str) -> int:
    if not isinstance(value, Ref):
        raise StepSyntaxError(f"{attribute} is not an instance reference")
    return int(value)


def _decode(statement: bytes) -> str:
    # Part 21 is 7-bit text with escapes, but real writers emit UTF-8 or Latin-1 bytes in names too.
    try:
        return statement.decode("utf-8")
    except UnicodeDecodeError:
        return statement.decode("latin-1")


_LEADING_NOISE = re.compile(rb"(?:\s+|/\*.*?\*/)*", re.DOTALL)
_OTHER_SECTIONS = {"ANCHOR", "REFERENCE", "SIGNATURE"}  # Part 21 edition 3; nothing we report lives there


def _starts_like_step(stream: BinaryIO) -> bool:
    """Look at the first bytes only, so a large file of another kind is refused without being scanned."""
    head = stream.read(4096).removeprefix(b"\xef\xbb\xbf")
    stream.seek(0)
    noise = _LEADING_NOISE.match(head)
    return head[noise.end() if noise else 0 :].startswith(_MAGIC.encode())


def _collect(stream: BinaryIO, filename: str) -> _Collected:
    if not _starts_like_step(stream):
        raise CorruptFileError(f"{filename} is not a STEP file: it does not start with {_MAGIC}")
    collected = _Collected()
    section: str | None = None
    for statement in iter_statements(stream, _CHUNK_BYTES):
        if statement.startswith(b"#"):
            if section == "DATA":
                collected.entity_count += 1
                _collect_instance(collected, statement)
            elif section not in _OTHER_SECTIONS:
                raise StepSyntaxError(f"instance {statement[:20]!r} outside the DATA section")
            continue
        keyword = statement.split(b"(", 1)[0].strip().upper().decode("ascii", "replace")
        if keyword == _END:
            return collected
        if keyword in ("HEADER", "DATA", *_OTHER_SECTIONS):
            section = keyword
        elif keyword == "ENDSEC":
            section = None
        elif section == "HEADER":
            collected.add_header(parse_record(_decode(statement)))
    raise CorruptFileError(f"{filename} is truncated: it has no {_END} line")


def _collect_instance(collected: _Collected, statement: bytes) -> None:
    head = _INSTANCE.match(statement)
    if head is None:
        raise StepSyntaxError(f"malformed instance {statement[:40]!r}")
    kind = head.group(2).upper()
    if kind in _FACE_KINDS:
        collected.face_count += 1
    is_complex = kind == b"("
    # complex instances of interest are the unit and representation-context ones; skip the rest unparsed
    wanted = b"UNIT" in statement if is_complex else kind in _SIMPLE_OF_INTEREST
    if not wanted:
        return
    entity_id = int(head.group(1))
    try:
        text = _decode(statement[head.start(2) :])
        if is_complex:
            collected.add_complex(entity_id, parse_complex(text))
        else:
            collected.add_simple(entity_id, parse_record(text))
    except IndexError as exc:
        raise StepSyntaxError(f"#{entity_id} {kind.decode()}: too few attributes") from exc
    except StepSyntaxError as exc:
        raise StepSyntaxError(f"#{entity_id} {kind.decode()}: {exc}") from exc


# --- assembly ------------------------------------------------------------------------------------------


def _product_of_definition(collected: _Collected) -> dict[int, int]:
    """PRODUCT_DEFINITION → FORMATION → PRODUCT."""
    return {
        definition: collected.formation_product[formation]
        for definition, formation in collected.definition_formation.items()
        if formation in collected.formation_product
    }


def _material_products(collected: _Collected, product_of_definition: dict[int, int]) -> set[int]:
    """Products that are materials: in a material category or product context, or the stock a part is made
    from."""
    made_from = {product_of_definition.get(definition) for definition in collected.made_from_definitions}
    return {
        product_id
        for product_id in collected.products
        if product_id in collected.material_products
        or product_id in made_from
        or not collected.material_contexts.isdisjoint(collected.product_contexts.get(product_id, ()))
    }


def _assembly(
    collected: _Collected, product_of_definition: dict[int, int], materials: set[int], warnings: list[str]
) -> list[StepAssemblyNode]:
    """Product tree from NAUO links; quantity = the number of links from the same parent to the same child;
    roots = products that are nobody's child and not a material."""
    children: dict[int, dict[int, int]] = {}
    for usage_id, parent_definition, child_definition in collected.usages:
        parent = product_of_definition.get(parent_definition)
        child = product_of_definition.get(child_definition)
        if parent not in collected.products or child not in collected.products:
            warnings.append(f"assembly link #{usage_id} does not lead to two PRODUCT entities; skipped")
            continue
        assert parent is not None and child is not None
        links = children.setdefault(parent, {})
        links[child] = links.get(child, 0) + 1
    used_as_child = {child for links in children.values() for child in links}
    budget = [_MAX_TREE_NODES]

    def node(product_id: int, quantity: int, path: frozenset[int]) -> StepAssemblyNode:
        budget[0] -= 1
        product = collected.products[product_id]
        kids: list[StepAssemblyNode] = []
        for child, count in children.get(product_id, {}).items():
            if child in path:
                warnings.append(f"assembly cycle through product #{child} ({product.id}) cut")
            elif budget[0] <= 0:
                warnings.append(f"assembly tree cut at {_MAX_TREE_NODES} nodes")
                break
            else:
                kids.append(node(child, count, path | {child}))
        return StepAssemblyNode(product_id=product.id, name=product.name, quantity=quantity, children=kids)

    return [
        node(product_id, 1, frozenset({product_id}))
        for product_id in sorted(collected.products)
        if product_id not in used_as_child and product_id not in materials
    ]


def _unit_warnings(units: dict[str, _Unit]) -> list[str]:
    if not units:
        return ["the file defines no SI_UNIT or CONVERSION_BASED_UNIT: its units are unknown"]
    warnings = [
        f"the {kind.replace('_', ' ')} unit {unit.symbol!r} is not one this extractor names; kept as written"
        for kind, unit in units.items()
        if not unit.named
    ]
    if "length" not in units:
        warnings.append("the file defines no length unit: its lengths are in unknown units")
    return warnings


_ON, _OFF = {"on", "true", "yes", "1"}, {"off", "false", "no", "0"}


def _geometry_option(options: Mapping[str, Any]) -> bool:
    value = str(options.get("geometry", "on")).strip().lower()
    if value not in _ON | _OFF:
        raise ConfigurationError(f"the 'geometry' option must be on or off, got {options.get('geometry')!r}")
    return value in _ON


# --- entry point ---------------------------------------------------------------------------------------


def extract(path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    """``options["geometry"]``: ``"on"`` (default) or ``"off"`` (no OpenCascade run, e.g. for huge assemblies)."""
    if path.stat().st_size == 0:
        raise EmptyFileError(f"{source.filename} is empty")
    geometry_wanted = _geometry_option(options)
    try:
        with path.open("rb") as stream:
            collected = _collect(stream, source.filename)
    except StepSyntaxError as exc:
        raise CorruptFileError(f"{source.filename} is not a readable STEP file: {exc}") from exc
    warnings: list[str] = []
    units = collected.assigned_units()
    warnings.extend(_unit_warnings(units))
    product_of_definition = _product_of_definition(collected)
    materials = _material_products(collected, product_of_definition)
    products = [
        collected.products[key].model_copy(update={"is_material": key in materials})
        for key in sorted(collected.products)
    ]
    assembly = _assembly(collected, product_of_definition, materials, warnings)
    if geometry_wanted:
        geometry = measure_geometry(path, warnings, has_faces=collected.face_count > 0)
    else:
        geometry = None
        warnings.append("geometry was not computed: the 'geometry' option is off")
    step = StepModel(
        header=collected.header,
        products=products,
        assembly=assembly,
        units={kind: unit.symbol for kind, unit in units.items()},
        unit_scales={kind: scale for kind, unit in units.items() if (scale := collected.unit_scale(unit)) is not None},
        entity_count=collected.entity_count,
        geometry=geometry,
    )
    return ExtractionResult(
        format=FileFormat.STEP,
        extractor_version=VERSION,
        source=source,
        metadata={
            "schema_identifiers": collected.header.schema_identifiers,
            "originating_system": collected.header.originating_system,
            "entity_count": collected.entity_count,
            "product_count": len(collected.products),
            "assembly_link_count": len(collected.usages),
            "material_product_count": len(materials),
        },
        warnings=warnings,
        units=step.units.get("length"),
        step=step,
    )
