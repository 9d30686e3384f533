"""STEP (ISO 10303-21) extractor: header, products, assembly tree and units, read as a stream.

Why a small reader of our own: the only Part-21 parser on PyPI that is not a whole CAD kernel,
``steputils`` (0.1, March 2022, no release since), loads the whole file into a list of entities before
anything can be read from it, and OpenCascade (OCP) does the same and is an optional extra. This module
reads the file in chunks and splits it into statements itself (strings with doubled quotes, statements over
many lines, ``/* */`` comments), counts every entity instance, but parses and keeps only the few entity
types it reports: PRODUCT, PRODUCT_DEFINITION_FORMATION, PRODUCT_DEFINITION,
NEXT_ASSEMBLY_USAGE_OCCURRENCE and the unit entities. Memory therefore grows with the number of products
and assembly links, not with the size of the file.

Units are named in the one vocabulary of ``extractors/units.py`` (``mm``, ``m``, ``in``, ``ft``, ``rad``,
``deg``, ``sr``) with their scale to SI (a conversion-based unit's from its own measure). Products that are
materials (AP214 category "material"/"raw material", or the stock a part is made from through
MAKE_FROM_USAGE_OPTION) are tagged ``is_material`` and are not assembly roots.

Geometry (solids, volume, area, bounding box) is read by ``step_geometry`` when the optional ``OCP`` package
is importable; without it the result says geometry was not computed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from extraction_pipeline.errors import CorruptFileError, EmptyFileError
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

VERSION = "1.1.0"

_CHUNK_BYTES = 1 << 20
_MAX_TREE_NODES = 10_000  # a sub-assembly used in many places is expanded under each; stop runaway trees
_MAGIC = "ISO-10303-21"
_END = "END-ISO-10303-21"


class StepSyntaxError(ValueError):
    """A statement the reader cannot parse."""


# --- statements ----------------------------------------------------------------------------------------

_NORMAL_STOP = re.compile(rb"[';]|/\*")


def iter_statements(stream: BinaryIO, chunk_bytes: int | None = None) -> Iterator[bytes]:
    """Yield each ``;``-terminated statement (without the ``;``, comments removed, stripped).

    The quote toggles string state; a doubled quote inside a string leaves the string and re-enters it at
    once, so ``''`` needs no special case. Most statements take the fast path; the token-by-token path
    handles a ";" inside a string, comments and statements cut by a chunk boundary. Raises StepSyntaxError
    when the file ends inside a string or a comment, or with text after the last ``;``.
    """
    chunk_bytes = chunk_bytes or _CHUNK_BYTES
    buffer = b""
    pos = 0
    pieces: list[bytes] = []  # the current statement so far
    in_string = in_comment = False
    while True:
        if not (in_string or in_comment):
            # Fast path, all in C: the next ";" ends the statement when the text before it holds an even
            # number of quotes (so the ";" is outside any string) and no comment.
            semicolon = buffer.find(b";", pos)
            if semicolon >= 0:
                segment = buffer[pos:semicolon]
                if not segment.count(b"'") % 2 and b"/*" not in segment:
                    yield (b"".join([*pieces, segment]) if pieces else segment).strip()
                    pieces = []
                    pos = semicolon + 1
                    continue
        if in_comment:
            end = buffer.find(b"*/", pos)
            if end >= 0:
                pos, in_comment = end + 2, False
                continue
            keep = max(pos, len(buffer) - 1)  # the chunk's last byte may be the "*" of "*/"
        elif in_string:
            end = buffer.find(b"'", pos)
            if end >= 0:
                pieces.append(buffer[pos : end + 1])
                pos, in_string = end + 1, False
                continue
            pieces.append(buffer[pos:])
            keep = len(buffer)
        else:
            match = _NORMAL_STOP.search(buffer, pos)
            if match is not None:
                token = match.group()
                if token == b"'":
                    pieces.append(buffer[pos : match.end()])
                    in_string = True
                elif token == b"/*":
                    pieces.append(buffer[pos : match.start()] + b" ")  # a comment separates tokens
                    in_comment = True
                else:
                    pieces.append(buffer[pos : match.start()])
                    yield b"".join(pieces).strip()
                    pieces = []
                pos = match.end()
                continue
            # a "/" at the chunk's end may start "/*" (pos past it: it was the end of a comment)
            keep = max(pos, len(buffer) - 1) if buffer.endswith(b"/") else len(buffer)
            pieces.append(buffer[pos:keep])
        chunk = stream.read(chunk_bytes)
        if not chunk:
            break
        buffer, pos = buffer[keep:] + chunk, 0
    if in_string or in_comment:
        raise StepSyntaxError("the file ends inside a " + ("string" if in_string else "comment"))
    if b"".join(pieces).strip() or buffer[keep:].strip():
        raise StepSyntaxError("the file ends in the middle of a statement")


# --- values --------------------------------------------------------------------------------------------


class Ref(int):
    """An instance reference ``#n``."""


class EnumValue(str):
    """An enumeration value ``.NAME.`` (stored without the dots)."""


class Typed(NamedTuple):
    """A typed parameter ``NAME(args)``, or one part of a complex instance."""

    name: str
    args: list[Any]


DERIVED = object()  # "*": the attribute is derived

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<enum>\.[A-Za-z_][A-Za-z0-9_]*\.)
    | (?P<ref>\#\d+)
    | (?P<binary>"[0-9A-Fa-f]*")
    | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<keyword>!?[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[(),$*=])
    )""",
    re.VERBOSE,
)

_DIRECTIVE = re.compile(
    r"\\X2\\((?:[0-9A-Fa-f]{4})*)\\X0\\"
    r"|\\X4\\((?:[0-9A-Fa-f]{8})*)\\X0\\"
    r"|\\X\\([0-9A-Fa-f]{2})"
    r"|\\P([A-I])\\"
    r"|\\S\\(.)"
    r"|\\\\",
    re.DOTALL,
)


def decode_string(literal: str) -> str:
    """The text of a Part-21 string literal (with its quotes): ``''`` → ``'``, line breaks dropped (writers
    wrap long strings), and the control directives \\X2\\…\\X0\\ (UCS-2), \\X4\\…\\X0\\ (UCS-4), \\X\\hh,
    \\S\\c (c + 128 in the current ISO 8859 page, set by \\P?\\) and \\\\ decoded."""
    text = literal[1:-1].replace("''", "'").replace("\r", "").replace("\n", "")
    page = ["A"]

    def replace(match: re.Match[str]) -> str:
        ucs2, ucs4, byte, new_page, shifted = match.groups()
        if ucs2 is not None:
            return "".join(chr(int(ucs2[i : i + 4], 16)) for i in range(0, len(ucs2), 4))
        if ucs4 is not None:
            return "".join(chr(int(ucs4[i : i + 8], 16)) for i in range(0, len(ucs4), 8))
        if byte is not None:
            return bytes([int(byte, 16)]).decode("latin-1")
        if new_page is not None:
            page[0] = new_page
            return ""
        if shifted is not None:
            return bytes([(ord(shifted) + 128) & 0xFF]).decode(f"iso8859-{ord(page[0]) - ord('A') + 1}")
        return "\\"

    return _DIRECTIVE.sub(replace, text)


class _Parser:
    """Recursive-descent parser of one statement's parameter list."""

    def __init__(self, text: str) -> None:
        self.tokens = self._tokenize(text)
        self.index = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        pos = 0
        length = len(text.rstrip())
        while pos < length:
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise StepSyntaxError(f"unexpected text {text[pos : pos + 20]!r}")
            kind = match.lastgroup
            assert kind is not None
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def _next(self) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise StepSyntaxError("the statement ends too early")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _expect(self, punct: str) -> None:
        kind, value = self._next()
        if (kind, value) != ("punct", punct):
            raise StepSyntaxError(f"expected {punct!r}, found {value!r}")

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def parameters(self) -> list[Any]:
        """``( value, value, ... )``"""
        self._expect("(")
        values: list[Any] = []
        if self._peek() == ("punct", ")"):
            self.index += 1
            return values
        while True:
            values.append(self.value())
            kind, value = self._next()
            if (kind, value) == ("punct", ")"):
                return values
            if (kind, value) != ("punct", ","):
                raise StepSyntaxError(f"expected ',' or ')', found {value!r}")

    def value(self) -> Any:
        kind, value = self._next()
        if kind == "string":
            return decode_string(value)
        if kind == "ref":
            return Ref(int(value[1:]))
        if kind == "enum":
            return EnumValue(value[1:-1].upper())
        if kind == "number":
            return int(value) if re.fullmatch(r"[+-]?\d+", value) else float(value)
        if kind == "binary":
            return value[1:-1]
        if kind == "keyword":
            return Typed(value.upper(), self.parameters())
        if value == "$":
            return None
        if value == "*":
            return DERIVED
        if value == "(":
            self.index -= 1
            return self.parameters()
        raise StepSyntaxError(f"unexpected {value!r}")

    def record(self) -> Typed:
        """``NAME(args)``"""
        kind, name = self._next()
        if kind != "keyword":
            raise StepSyntaxError(f"expected an entity name, found {name!r}")
        return Typed(name.upper(), self.parameters())

    def complex_records(self) -> list[Typed]:
        """``(A(args) B(args) ...)``"""
        self._expect("(")
        parts: list[Typed] = []
        while self._peek() != ("punct", ")"):
            parts.append(self.record())
        self.index += 1
        return parts

    def done(self) -> None:
        if self.index != len(self.tokens):
            raise StepSyntaxError(f"unexpected {self.tokens[self.index][1]!r} after the parameters")


def parse_record(text: str) -> Typed:
    """Parse ``NAME(args)`` (a header entry or a simple instance's right-hand side)."""
    parser = _Parser(text)
    record = parser.record()
    parser.done()
    return record


def parse_complex(text: str) -> list[Typed]:
    """Parse ``(A(args) B(args) ...)`` (a complex instance's right-hand side)."""
    parser = _Parser(text)
    parts = parser.complex_records()
    parser.done()
    return parts


# --- collecting ----------------------------------------------------------------------------------------

_INSTANCE = re.compile(rb"#(\d+)\s*=\s*(\(|[A-Za-z_][A-Za-z0-9_]*)")

_FORMATIONS = {"PRODUCT_DEFINITION_FORMATION", "PRODUCT_DEFINITION_FORMATION_WITH_SPECIFIED_SOURCE"}
_DEFINITIONS = {"PRODUCT_DEFINITION", "PRODUCT_DEFINITION_WITH_ASSOCIATED_DOCUMENTS"}
_NAUO = "NEXT_ASSEMBLY_USAGE_OCCURRENCE"
_CATEGORY = "PRODUCT_RELATED_PRODUCT_CATEGORY"
_MAKE_FROM = "MAKE_FROM_USAGE_OPTION"  # a part (relating) made from stock material (related)
_MEASURES = {
    "MEASURE_WITH_UNIT",
    "LENGTH_MEASURE_WITH_UNIT",
    "PLANE_ANGLE_MEASURE_WITH_UNIT",
    "SOLID_ANGLE_MEASURE_WITH_UNIT",
}
_SIMPLE_OF_INTEREST = {
    name.encode() for name in ("PRODUCT", _NAUO, _CATEGORY, _MAKE_FROM, *_FORMATIONS, *_DEFINITIONS, *_MEASURES)
}
# AP214's recommended product categories name raw material "raw material"; other writers say "material"
_MATERIAL_CATEGORIES = {"material", "raw material", "raw_material", "stock", "stock material"}

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
    products: dict[int, StepProduct] = field(default_factory=dict)
    formation_product: dict[int, int] = field(default_factory=dict)
    definition_formation: dict[int, int] = field(default_factory=dict)
    usages: list[tuple[int, int, int]] = field(default_factory=list)  # (NAUO id, parent PD, child PD)
    units: dict[int, _Unit] = field(default_factory=dict)
    context_units: list[int] = field(default_factory=list)
    measures: dict[int, tuple[float, int]] = field(default_factory=dict)  # id -> (value, unit id)
    material_products: set[int] = field(default_factory=set)  # by category
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

    def is_material(self, product_id: int, definitions_of_product: dict[int, set[int]]) -> bool:
        if product_id in self.material_products:
            return True
        return not self.made_from_definitions.isdisjoint(definitions_of_product.get(product_id, ()))


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
    for statement in iter_statements(stream):
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
    """Products that are materials: in a material category, or the stock a part is made from."""
    made_from = {product_of_definition.get(definition) for definition in collected.made_from_definitions}
    return {
        product_id
        for product_id in collected.products
        if product_id in collected.material_products or product_id in made_from
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
    return [
        f"the {kind.replace('_', ' ')} unit {unit.symbol!r} is not one this extractor names; kept as written"
        for kind, unit in units.items()
        if not unit.named
    ]


# --- entry point ---------------------------------------------------------------------------------------


def extract(path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    if path.stat().st_size == 0:
        raise EmptyFileError(f"{source.filename} is empty")
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
    step = StepModel(
        header=collected.header,
        products=products,
        assembly=_assembly(collected, product_of_definition, materials, warnings),
        units={kind: unit.symbol for kind, unit in units.items()},
        unit_scales={kind: scale for kind, unit in units.items() if (scale := collected.unit_scale(unit)) is not None},
        entity_count=collected.entity_count,
        geometry=measure_geometry(path, warnings),
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
