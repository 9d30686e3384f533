"""What the layouts hold: their entities, what block inserts place in them, layers, blocks, a geometry summary.

Modelspace AND every paperspace layout are read (PyBase read modelspace only). Block definitions are read
through their inserts: each INSERT (each cell of a MINSERT grid, nested inserts included) places its block's
entities once more in the layout, and ``block_contents`` lists them once per insert with the transform that
places them — so a DIMENSION or a text drawn in a block inserted three times is shown three times.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ezdxf.document import Drawing
from ezdxf.entities import Attrib, DXFGraphic, Insert
from ezdxf.math import Matrix44, Vec3

from extraction_pipeline.extractors.dxf.units import Units
from extraction_pipeline.extractors.schema import Block, BlockAttribute, GeometrySummary, Layer

_MAX_BLOCK_NESTING = 16  # deeper nesting is a reference cycle in practice; AutoCAD refuses cycles


@dataclass(frozen=True)
class Placed:
    """An entity as it shows in a layout: directly, or through the insert of the block defining it."""

    layout: str
    entity: DXFGraphic
    matrix: Matrix44 | None = None  # entity coordinates → layout coordinates; None: already in the layout's
    inherited_layer: str | None = None  # the insert's layer, for an entity of a block drawn on layer "0"
    block: str | None = None  # the block whose insert placed it

    @property
    def layer(self) -> str:
        return _effective_layer(self.entity.dxf.get("layer", "0"), self.inherited_layer)

    def to_layout(self, points: list[Vec3]) -> list[Vec3]:
        """``points`` of the entity in the layout's coordinates."""
        return points if self.matrix is None else list(self.matrix.transform_vertices(points))


def layout_entities(doc: Drawing) -> list[Placed]:
    """Every entity of modelspace and the paperspace layouts, in tab order."""
    placed = []
    for name in doc.layouts.names_in_taborder():
        placed.extend(Placed(name, entity) for entity in doc.layouts.get(name))
    return placed


def layout_counts(doc: Drawing, placed: list[Placed]) -> dict[str, int]:
    counts = Counter(item.layout for item in placed)
    return {name: counts[name] for name in doc.layouts.names_in_taborder()}


# --- block contents, once per insert ---------------------------------------------------------------------


def block_contents(doc: Drawing, placed: list[Placed]) -> tuple[list[Placed], list[str]]:
    """What the layouts' inserts show: their ATTRIBs and their blocks' dimensions and texts, once per insert.

    Nested inserts are followed (their transforms composed). Only the entity kinds whose content is read are
    listed (``SHOWN_IN_BLOCKS``); a block's geometry is counted through its INSERT. At most
    ``MAX_SHOWN_BY_INSERTS`` are listed, with a warning, so that a block nested in blocks inserted thousands of
    times cannot exhaust memory.
    """
    walker = _InsertWalker(doc)
    for item in placed:
        if isinstance(item.entity, Insert):
            walker.walk(item.layout, item.entity, None, None, ())
    if not walker.truncated:
        return walker.shown, []
    return walker.shown, [
        f"block inserts show more than {MAX_SHOWN_BY_INSERTS} dimensions and texts: only the first are read"
    ]


SHOWN_IN_BLOCKS = frozenset(
    {"DIMENSION", "ARC_DIMENSION", "LARGE_RADIAL_DIMENSION", "TEXT", "MTEXT", "MULTILEADER", "TOLERANCE"}
)
MAX_SHOWN_BY_INSERTS = 200_000


class _InsertWalker:
    def __init__(self, doc: Drawing) -> None:
        self._doc = doc
        self._contents: dict[str, tuple[list[DXFGraphic], list[Insert]] | None] = {}
        self.shown: list[Placed] = []
        self.truncated = False

    def walk(
        self, layout: str, insert: Insert, parent: Matrix44 | None, parent_layer: str | None, chain: tuple[str, ...]
    ) -> None:
        name = insert.dxf.get("name", "")
        contents = self._block_contents(name)
        if contents is None or name.casefold() in chain or len(chain) >= _MAX_BLOCK_NESTING:
            return
        entities, nested = contents
        layer = _effective_layer(insert.dxf.get("layer", "0"), parent_layer)
        for cell in insert.multi_insert() if insert.mcount > 1 else (insert,):
            # an insert's attributes are in the coordinates of the space holding the insert
            self._add(Placed(layout, attrib, parent, parent_layer, name) for attrib in cell.attribs)
            matrix = cell.matrix44() if parent is None else cell.matrix44() @ parent
            self._add(Placed(layout, entity, matrix, layer, name) for entity in entities)
            for child in nested:
                self.walk(layout, child, matrix, layer, (*chain, name.casefold()))

    def _block_contents(self, name: str) -> tuple[list[DXFGraphic], list[Insert]] | None:
        """(the block's entities of the kinds read, its nested inserts); None for an undefined block."""
        if name not in self._contents:
            block = self._doc.blocks.get(name)
            self._contents[name] = None
            if block is not None:
                shown = [entity for entity in block if entity.dxftype() in SHOWN_IN_BLOCKS]
                self._contents[name] = (shown, [entity for entity in block if isinstance(entity, Insert)])
        return self._contents[name]

    def _add(self, items: Iterable[Placed]) -> None:
        for item in items:
            if len(self.shown) >= MAX_SHOWN_BY_INSERTS:
                self.truncated = True
                return
            self.shown.append(item)


def blocks_reaching_a_cycle(doc: Drawing) -> set[str]:
    """Casefolded names of the blocks that insert themselves, directly or through the blocks they insert, and of
    the blocks that insert one of those."""
    inserted: dict[str, set[str]] = {
        block.name.casefold(): {entity.dxf.get("name", "").casefold() for entity in block.query("INSERT")}
        for block in doc.blocks
        if not block.is_any_layout  # layouts are not inserted
    }
    reach = {name: _reachable(name, inserted) for name, names in inserted.items() if names}
    on_a_cycle = {name for name, reachable in reach.items() if name in reachable}
    return {name for name, reachable in reach.items() if reachable & on_a_cycle}


def _reachable(start: str, inserted: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    frontier = set(inserted[start])
    while frontier:
        name = frontier.pop()
        if name not in seen:
            seen.add(name)
            frontier |= inserted.get(name, set())
    return seen


def _effective_layer(own: str, inherited: str | None) -> str:
    return inherited if inherited is not None and own == "0" else own


# --- layers ----------------------------------------------------------------------------------------------


def layers(doc: Drawing, placed: list[Placed]) -> tuple[list[Layer], list[str]]:
    counts = Counter(item.entity.dxf.get("layer", "0").casefold() for item in placed)
    found = []
    for table_entry in doc.layers:
        found.append(
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
    found.extend(Layer(name=name, entity_count=counts[key]) for key, name in undefined.items())
    missing = ", ".join(undefined.values())
    warnings = [f"entities use layers missing from the layer table: {missing}"] if undefined else []
    return found, warnings


# --- blocks and their attributes -------------------------------------------------------------------------


def _is_named_block(name: str) -> bool:
    """Anonymous blocks (``*D1`` dimension pictures, ``*U`` dynamic copies, ``*Model_Space``…) are not parts."""
    return not name.startswith("*")


def attributes(insert: Insert) -> list[BlockAttribute]:
    return [BlockAttribute(tag=attrib.dxf.get("tag", ""), value=attrib_text(attrib)) for attrib in insert.attribs]


def attrib_text(attrib: Attrib) -> str:
    if attrib.has_embedded_mtext_entity:  # multi-line attribute (R2018)
        return attrib.virtual_mtext_entity().plain_text(split=False)
    return attrib.plain_text()


def all_inserts(doc: Drawing, placed: list[Placed]) -> list[Insert]:
    """INSERTs of the layouts, then those nested in named block definitions."""
    inserts = [item.entity for item in placed if isinstance(item.entity, Insert)]
    for block_layout in doc.blocks:
        if _is_named_block(block_layout.name) and not block_layout.is_any_layout:
            inserts.extend(entity for entity in block_layout if isinstance(entity, Insert))
    return inserts


def blocks(doc: Drawing, inserts: list[Insert], units: Units) -> list[Block]:
    inserts_by_block: dict[str, list[Insert]] = defaultdict(list)
    for insert in inserts:
        inserts_by_block[insert.dxf.get("name", "").casefold()].append(insert)
    found = []
    for block_layout in doc.blocks:
        if not _is_named_block(block_layout.name) or block_layout.is_any_layout:
            continue
        its_inserts = inserts_by_block.get(block_layout.name.casefold(), [])
        attribute_lists = [attributes(insert) for insert in its_inserts]
        found.append(
            Block(
                name=block_layout.name,
                insert_count=len(its_inserts),
                base_point=units.point(block_layout.block.dxf.get("base_point", (0, 0, 0))),
                entity_count=len(block_layout),
                # one list per insert, aligned with the inserts; none at all for a block without attributes
                attributes=attribute_lists if any(attribute_lists) else [],
            )
        )
    return found


# --- geometry summary ------------------------------------------------------------------------------------

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


def geometry_summary(placed: list[Placed]) -> GeometrySummary:
    """Counts of the layouts' own entities (a block's content is counted as its INSERT)."""
    counts = Counter(_GEOMETRY_CATEGORY.get(item.entity.dxftype(), "other") for item in placed)
    return GeometrySummary(**counts, total=len(placed))
