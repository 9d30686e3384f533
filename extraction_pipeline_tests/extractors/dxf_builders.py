"""Builders of small DXF drawings (written with ezdxf) whose content the tests know exactly.

``build_drawing_dxf`` is the general-purpose drawing other tests (pipeline, assets) reuse: layers, an
attributed title block carrying the given drawing number and a 100 mm linear dimension.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import ezdxf
from ezdxf.document import Drawing
from ezdxf.entities.acad_table import AcadTableBlockContent
from ezdxf.layouts import BaseLayout
from ezdxf.lldxf.extendedtags import ExtendedTags
from ezdxf.math import Vec2
from ezdxf.render.mleader import ConnectionSide

MM = 4  # $INSUNITS codes
M = 6
METRIC = 1  # $MEASUREMENT

TITLE_BLOCK_TAGS = ("DWG_NO", "TITLE", "REV", "DATE", "SCALE", "MATERIAL", "DRAWN_BY", "CHECKED_BY")
PART_TAGS = ("ITEM", "PART_NO", "DESCRIPTION", "QTY", "MATERIAL")


def new_drawing(insunits: int = MM) -> Drawing:
    """An R2010 drawing with $INSUNITS set (ezdxf's own default would be metres) and metric $MEASUREMENT."""
    doc = ezdxf.new("R2010", setup=True)
    doc.header["$INSUNITS"] = insunits
    doc.header["$MEASUREMENT"] = METRIC
    return doc


def define_attributed_block(doc: Drawing, name: str, tags: Sequence[str], *, base_point=(0, 0)) -> None:
    """Block ``name``: a 100×20 rectangle plus one ATTDEF per tag (so ``len(tags) + 1`` entities)."""
    block = doc.blocks.new(name=name, base_point=base_point)
    block.add_lwpolyline([(0, 0), (100, 0), (100, 20), (0, 20)], close=True)
    for row, tag in enumerate(tags):
        block.add_attdef(tag, insert=(2, 2 + 4 * row), height=2.5)


def insert_with_values(layout: BaseLayout, name: str, values: Mapping[str, str], *, at=(0, 0)) -> None:
    layout.add_blockref(name, at).add_auto_attribs(dict(values))


def add_title_block(doc: Drawing, layout: BaseLayout, values: Mapping[str, str], *, at=(300, 0)) -> None:
    define_attributed_block(doc, "TITLE_BLOCK", list(values))
    insert_with_values(layout, "TITLE_BLOCK", values, at=at)


def build_drawing_dxf(path: Path, *, drawing_number: str = "DWG-2001") -> Path:
    """A millimetre drawing: layers OUTLINE (2 entities) and DIMS (1), a title block and one 100 mm dimension.

    Modelspace: LINE and CIRCLE (r=10) on OUTLINE, a linear DIMENSION of 100 on DIMS (no tolerances), the
    title-block insert on layer 0 with DWG_NO=``drawing_number``, TITLE="Bracket", REV="C",
    DATE="2024-03-01", SCALE="1:1", MATERIAL="S235", DRAWN_BY="A. Engineer", CHECKED_BY="B. Checker".
    """
    doc = new_drawing(MM)
    doc.layers.add("OUTLINE", color=7)
    doc.layers.add("DIMS", color=3)
    msp = doc.modelspace()
    msp.add_line((0, 0), (100, 0), dxfattribs={"layer": "OUTLINE"})
    msp.add_circle((50, 40), radius=10, dxfattribs={"layer": "OUTLINE"})
    msp.add_linear_dim(base=(0, -20), p1=(0, 0), p2=(100, 0), dxfattribs={"layer": "DIMS"}).render()
    add_title_block(doc, msp, title_block_values(drawing_number))
    doc.saveas(path)
    return path


def title_block_values(drawing_number: str) -> dict[str, str]:
    return {
        "DWG_NO": drawing_number,
        "TITLE": "Bracket",
        "REV": "C",
        "DATE": "2024-03-01",
        "SCALE": "1:1",
        "MATERIAL": "S235",
        "DRAWN_BY": "A. Engineer",
        "CHECKED_BY": "B. Checker",
    }


def build_dimensions_dxf(path: Path, *, insunits: int = MM, render: bool = True) -> Path:
    """One dimension of each kind, all on layer DIMS, in the given drawing unit.

    linear 100 with tolerances +0.1/-0.05 (DIMTOL on, as entity overrides); radius 15; diameter 25;
    angular 45°; ordinate X of 30; a linear 40 whose text override is "<> H7". With ``render=False`` the
    entities have no geometry block (as script-written files often do; ezdxf's audit would delete them).
    """
    doc = new_drawing(insunits)
    doc.layers.add("DIMS")
    msp = doc.modelspace()
    attribs = {"layer": "DIMS"}
    dims = [
        msp.add_linear_dim(
            base=(0, 20),
            p1=(0, 0),
            p2=(100, 0),
            override={"dimtol": 1, "dimtp": 0.1, "dimtm": 0.05},
            dxfattribs=attribs,
        ),
        msp.add_radius_dim(center=(200, 0), radius=15, angle=45, dxfattribs=attribs),
        msp.add_diameter_dim(center=(300, 0), radius=12.5, angle=30, dxfattribs=attribs),
        msp.add_angular_dim_2l(
            base=(50, 50), line1=((0, 100), (10, 100)), line2=((0, 100), (10, 110)), dxfattribs=attribs
        ),
        msp.add_ordinate_x_dim(feature_location=(30, 40), offset=(0, 10), origin=(0, 0), dxfattribs=attribs),
        msp.add_linear_dim(base=(0, -30), p1=(0, -10), p2=(40, -10), text="<> H7", dxfattribs=attribs),
    ]
    for dim in dims:
        if render:
            dim.render()
        else:
            dim.commit()  # store the overrides (DIMTOL…) without creating the geometry block
    doc.saveas(path)
    return path


def build_parts_dxf(path: Path, parts: Sequence[Mapping[str, str]]) -> Path:
    """Block "PART" (tags ``PART_TAGS``) inserted once per entry of ``parts``, 30 units apart, in mm."""
    doc = new_drawing(MM)
    define_attributed_block(doc, "PART", PART_TAGS, base_point=(5, 5))
    msp = doc.modelspace()
    for index, values in enumerate(parts):
        insert_with_values(msp, "PART", values, at=(0, 30 * index))
    doc.saveas(path)
    return path


def write_truncated_copy(source: Path, target: Path, *, keep_fraction: float = 0.5) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep_fraction)])
    return target


def write_random_bytes(path: Path, *, size: int = 4096, seed: int = 7) -> Path:
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def write_without_entities_endsec(source: Path, target: Path) -> Path:
    """A damaged copy whose ENTITIES section lacks its ENDSEC: the strict reader refuses it, recover repairs it."""
    lines = source.read_text().split("\n")
    start = lines.index("ENTITIES")
    end = next(index for index in range(start, len(lines)) if lines[index] == "ENDSEC")
    del lines[end - 1 : end + 1]  # the "  0" group code line and "ENDSEC"
    target.write_text("\n".join(lines))
    return target


def build_layers_dxf(path: Path) -> Path:
    """Layers in every state, entities of every geometry kind, and entities in paperspace ("Layout1").

    Layers: VISIBLE (color 5, DASHED, lineweight 50), HIDDEN (off), FROZEN, LOCKED.
    Modelspace — VISIBLE: LINE, LINE, LWPOLYLINE, POLYLINE (2D), SPLINE, ELLIPSE, POINT; HIDDEN: CIRCLE,
    ARC, HATCH; FROZEN: SOLID, 3DFACE, MESH; layer 0: TEXT, MTEXT, XLINE.
    Paperspace "Layout1" — LOCKED: LINE, TEXT "PAPER NOTE".
    """
    doc = new_drawing(MM)
    doc.layers.add("VISIBLE", color=5, linetype="DASHED", lineweight=50)
    doc.layers.add("HIDDEN").off()
    doc.layers.add("FROZEN").freeze()
    doc.layers.add("LOCKED").lock()
    msp = doc.modelspace()
    visible, hidden, frozen = {"layer": "VISIBLE"}, {"layer": "HIDDEN"}, {"layer": "FROZEN"}
    msp.add_line((0, 0), (10, 0), dxfattribs=visible)
    msp.add_line((0, 0), (0, 10), dxfattribs=visible)
    msp.add_lwpolyline([(0, 0), (5, 5), (10, 0)], dxfattribs=visible)
    msp.add_polyline2d([(0, 0), (5, -5), (10, 0)], dxfattribs=visible)
    msp.add_spline([(0, 0), (3, 4), (6, 0), (9, 4)], dxfattribs=visible)
    msp.add_ellipse((20, 20), major_axis=(5, 0), ratio=0.5, dxfattribs=visible)
    msp.add_point((30, 30), dxfattribs=visible)
    msp.add_circle((40, 40), radius=3, dxfattribs=hidden)
    msp.add_arc((50, 50), radius=3, start_angle=0, end_angle=90, dxfattribs=hidden)
    hatch = msp.add_hatch(color=1, dxfattribs=hidden)
    hatch.paths.add_polyline_path([(0, 0), (4, 0), (4, 4)], is_closed=True)
    msp.add_solid([(0, 0), (1, 0), (0, 1)], dxfattribs=frozen)
    msp.add_3dface([(0, 0, 0), (1, 0, 0), (1, 1, 1)], dxfattribs=frozen)
    mesh = msp.add_mesh(dxfattribs=frozen)
    with mesh.edit_data() as data:
        data.vertices = [(0, 0, 0), (1, 0, 0), (1, 1, 0)]
        data.faces = [(0, 1, 2)]
    msp.add_text("MODEL NOTE", height=2.5).set_placement((0, 60))
    msp.add_mtext("Second note", dxfattribs={"char_height": 2.5}).set_location((0, 70))
    msp.add_xline((0, 0), (1, 1))
    paper = doc.paperspace("Layout1")
    paper.add_line((0, 0), (100, 0), dxfattribs={"layer": "LOCKED"})
    paper.add_text("PAPER NOTE", height=3.5, dxfattribs={"layer": "LOCKED"}).set_placement((10, 10))
    doc.saveas(path)
    return path


def build_texts_dxf(path: Path) -> Path:
    """Texts for plain-text and annotation reading, in mm, all in modelspace on layer NOTES.

    MTEXT with formatting codes ("{\\fArial|b1;Bold} \\C1;red\\Pline two" = "Bold red" + newline + "line two");
    TEXT "%%c12 H7" (a callout Ø12 H7); TEXT "M8x1.25 THRU"; TEXT "Ra 1.6"; TEXT "42" (a bare number);
    TEXT "100 ±0.1" restating the linear DIMENSION of 100 that is also drawn.
    """
    doc = new_drawing(MM)
    doc.layers.add("NOTES")
    msp = doc.modelspace()
    notes = {"layer": "NOTES"}
    msp.add_mtext("{\\fArial|b1;Bold} \\C1;red\\Pline two", dxfattribs={**notes, "char_height": 3.5}).set_location(
        (0, 100)
    )
    for row, content in enumerate(["%%c12 H7", "M8x1.25 THRU", "Ra 1.6", "42", "100 ±0.1"]):
        msp.add_text(content, height=2.5, dxfattribs=notes).set_placement((0, 80 - 10 * row))
    msp.add_linear_dim(base=(0, -20), p1=(0, 0), p2=(100, 0)).render()
    doc.saveas(path)
    return path


def build_text_title_block_dxf(path: Path) -> Path:
    """A title block drawn as plain TEXT inside a 420×297 border (no attributes).

    Bottom-right: "DWG NO." with "TB-77" to its right, "TITLE" with "Gear Housing" below it, "SCALE: 1:5".
    Top-left, outside the title-block region: "REV: Z" (must not be read as the revision).
    """
    doc = new_drawing(MM)
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (420, 0), (420, 297), (0, 297)], close=True)
    placed = [("DWG NO.", (300, 30)), ("TB-77", (330, 30)), ("TITLE", (300, 50)), ("Gear Housing", (300, 45))]
    placed += [("SCALE: 1:5", (300, 15)), ("REV: Z", (20, 280))]
    for content, at in placed:
        msp.add_text(content, height=2.5).set_placement(at)
    doc.saveas(path)
    return path


def build_text_title_strip_dxf(path: Path, lines: Sequence[str], *, mtext: str | None = None) -> Path:
    """Title-strip lines as plain TEXT (height 2.5, 6 apart, from (250, 40) down) inside a 420×297 border.

    Each line is one TEXT entity, spaces included (``"REV: B   SCALE: 1:2"`` keeps its three spaces); ``mtext``
    (MTEXT markup, ``\\P`` for a new line) is added at (250, 60). Top-left, outside the title-block region:
    "DWG NO: OUTSIDE   REV: Z".
    """
    doc = new_drawing(MM)
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (420, 0), (420, 297), (0, 297)], close=True)
    for row, content in enumerate(lines):
        msp.add_text(content, height=2.5).set_placement((250, 40 - 6 * row))
    if mtext is not None:
        msp.add_mtext(mtext, dxfattribs={"char_height": 2.5}).set_location((250, 60))
    msp.add_text("DWG NO: OUTSIDE   REV: Z", height=2.5).set_placement((20, 280))
    doc.saveas(path)
    return path


def build_leader_frame_and_arc_dxf(path: Path) -> Path:
    """Annotations in newer entity kinds, in mm: a MULTILEADER reading "M6 THRU" (text at (20, 20), height 4),
    a TOLERANCE frame "position Ø0.05 to datum A", and an ARC_DIMENSION over a quarter circle of radius 10
    (arc length 5π).
    """
    doc = new_drawing(MM)
    msp = doc.modelspace()
    leader = msp.add_multileader_mtext("Standard")
    leader.set_content("M6 THRU", char_height=4)
    leader.add_leader_line(ConnectionSide.left, [Vec2(0, 0)])
    leader.build(insert=Vec2(20, 20))
    msp.new_entity("TOLERANCE", {"content": "{\\Fgdt;j}%%v%%c0.05%%vA", "insert": (0, -20)})
    msp.add_arc_dim_3p(base=(0, 20), center=(0, 0), p1=(10, 0), p2=(0, 10)).render()
    doc.saveas(path)
    return path


# --- ACAD_TABLE (ezdxf reads it but cannot create it: its group codes are written here) -------------------


def add_acad_table(
    layout: BaseLayout,
    cells: Sequence[Sequence[str]],
    *,
    insert: tuple[float, float] = (0, 0),
    row_height: float = 8.0,
    column_width: float = 30.0,
    cell_format: str = "R2004",
) -> None:
    """An ACAD_TABLE of ``cells`` (rows of equal length) with its top-left corner at ``insert``.

    Written from the DXF reference's group codes: AcDbBlockReference (2 block name, 10 insertion point),
    AcDbTable (11 horizontal direction, 91 rows, 92 columns, 141 per row height, 142 per column width), then
    per cell 171 (cell type 1 = text) … 145 and the text — in ``"R2004"`` cells as group code 1, in
    ``"R2007"`` cells as a CELL_VALUE (301) holding the text in 302. No *T geometry block is written (AutoCAD
    rebuilds it; the extractor reads the cells).
    """
    rows, columns = len(cells), len(cells[0])
    tags: list[tuple[int, object]] = [(0, "ACAD_TABLE"), (330, layout.block_record_handle), (100, "AcDbEntity")]
    tags += [(8, "TABLES"), (100, "AcDbBlockReference"), (2, "*T1"), (10, insert[0]), (20, insert[1]), (30, 0.0)]
    tags += [(100, "AcDbTable"), (280, 0), (11, 1.0), (21, 0.0), (31, 0.0), (90, 22), (91, rows), (92, columns)]
    tags += [(93, 0), (94, 0), (95, 0), (96, 0)]
    tags += [(141, row_height)] * rows + [(142, column_width)] * columns
    for row in cells:
        for text in row:
            tags += [(171, 1), (172, 0), (173, 0), (174, 0), (175, 1), (176, 1), (91, 0), (178, 0), (145, 0.0)]
            if cell_format == "R2004":
                tags.append((1, text))
            else:
                tags += [(301, "CELL_VALUE"), (93, 6), (90, 4), (1, text), (94, 0), (300, ""), (302, text)]
                tags.append((304, "ACVALUE_END"))
    entity = AcadTableBlockContent.load(ExtendedTags.from_text("".join(f"{code}\n{value}\n" for code, value in tags)))
    layout.add_entity(entity)


PARTS_TABLE = [
    ["PARTS LIST", "", ""],
    ["ITEM", "PART NO", "{\\fArial|b1;QTY}"],  # MTEXT formatting in a cell
    ["1", "P-1", "2"],
    ["2", "P-2", "4"],
]
REVISIONS_TABLE = [["REV", "DATE"], ["A", "2024-01-15"], ["B", "2024-03-01"]]


def build_tables_dxf(path: Path, *, cell_format: str = "R2004") -> Path:
    """Two ACAD_TABLEs: ``PARTS_TABLE`` (title row, header row, 2 rows; rows 8 high, columns 30 wide) in
    modelspace at (10, 200); ``REVISIONS_TABLE`` (no title row; rows 5, columns 20) in paperspace "Layout1"
    at (300, 50)."""
    doc = new_drawing(MM)
    add_acad_table(doc.modelspace(), PARTS_TABLE, insert=(10, 200), cell_format=cell_format)
    revisions = {"insert": (300, 50), "row_height": 5, "column_width": 20}
    add_acad_table(doc.paperspace("Layout1"), REVISIONS_TABLE, **revisions, cell_format=cell_format)
    doc.saveas(path)
    return path


# --- content of block definitions, shown through inserts -------------------------------------------------


def build_block_dimensions_dxf(path: Path) -> Path:
    """Dimensions and texts that live only in block definitions, in mm.

    Block "DETAIL" (base point (0, 0)): a linear DIMENSION of 25 (p1 (0, 0), p2 (25, 0), dimension line at
    y=10) on layer "0", TEXT "M5x0.8" at (0, -5) height 2.5 on layer NOTES, ATTDEF "POS".
    Block "SHEET": an INSERT of DETAIL at (0, 50) on layer "0" with POS="C".
    Modelspace: DETAIL at (100, 0) on layer VIEWS with POS="A"; DETAIL at (200, 0) scaled 2 on layer VIEWS
    with POS="B"; SHEET at (0, 100) on layer SHEETS. So DETAIL shows three times: 3 dimensions of 25 and
    3 "M5x0.8" texts; no DIMENSION or TEXT is a layout's own.
    """
    doc = new_drawing(MM)
    for name in ("VIEWS", "SHEETS", "NOTES"):
        doc.layers.add(name)
    detail = doc.blocks.new(name="DETAIL")
    detail.add_linear_dim(base=(0, 10), p1=(0, 0), p2=(25, 0)).render()
    detail.add_text("M5x0.8", height=2.5, dxfattribs={"layer": "NOTES"}).set_placement((0, -5))
    detail.add_attdef("POS", insert=(30, 0), height=2.5)
    sheet = doc.blocks.new(name="SHEET")
    sheet.add_blockref("DETAIL", (0, 50)).add_auto_attribs({"POS": "C"})
    msp = doc.modelspace()
    msp.add_blockref("DETAIL", (100, 0), dxfattribs={"layer": "VIEWS"}).add_auto_attribs({"POS": "A"})
    scaled = {"layer": "VIEWS", "xscale": 2, "yscale": 2}
    msp.add_blockref("DETAIL", (200, 0), dxfattribs=scaled).add_auto_attribs({"POS": "B"})
    msp.add_blockref("SHEET", (0, 100), dxfattribs={"layer": "SHEETS"})
    doc.saveas(path)
    return path


# --- old versions and damage -----------------------------------------------------------------------------

AC1003_LINE_DXF = (
    "  0\nSECTION\n  2\nHEADER\n  9\n$ACADVER\n  1\nAC1003\n  9\n$INSUNITS\n 70\n4\n"
    "  9\n$TDCREATE\n 40\n2451545.5\n  0\nENDSEC\n"
    "  0\nSECTION\n  2\nENTITIES\n  0\nLINE\n  8\n0\n 10\n0.0\n 20\n0.0\n 30\n0.0\n 11\n10.0\n 21\n0.0\n 31\n0.0\n"
    "  0\nENDSEC\n  0\nEOF\n"
)
"""An AutoCAD R2.6 (AC1003) drawing as such old writers wrote it: a HEADER ($TDCREATE 2451545.5, noon of
2000-01-01 as AutoCAD counts it) and one 10 mm LINE."""


def write_without_eof(source: Path, target: Path) -> Path:
    """A copy whose only damage is the missing final EOF marker (it ends with the last section's ENDSEC)."""
    text = source.read_text()
    target.write_text(text[: text.rindex("  0\nEOF")])
    return target


def write_cut_after_an_entity(source: Path, target: Path) -> Path:
    """A copy cut between two entities of the ENTITIES section: whole tags, but the rest of the file is gone."""
    lines = source.read_text().split("\n")
    start = lines.index("ENTITIES")
    entity_starts = [index for index in range(start + 1, len(lines)) if lines[index] == "  0"]
    target.write_text("\n".join(lines[: entity_starts[1]]) + "\n")  # the first entity only
    return target


def write_with_unordered_point_codes(source: Path, target: Path) -> Path:
    """A copy whose first LINE writes its end point's x (11) before its start point's y (20): the strict reader
    refuses it; recover reorders the codes without reporting anything."""
    text = source.read_text()
    start = text.index("\nLINE\n")
    fixed = text[start:].replace(
        " 10\n0.0\n 20\n0.0\n 30\n0.0\n 11\n100.0\n", " 10\n0.0\n 11\n100.0\n 20\n0.0\n 30\n0.0\n", 1
    )
    target.write_text(text[:start] + fixed)
    return target


def write_with_invalid_group_code(source: Path, target: Path) -> Path:
    """A copy with a group code that is no number: neither reader can make sense of the tag stream."""
    text = source.read_text()
    target.write_text(text.replace("\n 11\n", "\nabc\n", 1))
    return target


# (printed text override, value a person reads, tolerance_plus, tolerance_minus) of build_text_override_dxf
TEXT_OVERRIDES = [
    ("43 7/8", 43.875, None, None),  # a fractional-inch override on a measured 43.79
    ("%%c73.64", 73.64, None, None),  # a printed diameter on a measured 73.68
    ("\\A1;<>\\S0^ -0.05;", 75.0, 0.0, 0.05),  # MTEXT-stacked deviations after the measurement
    ("\\A1;38.3\\S+0.2^ 0;", 38.3, 0.2, 0.0),
]


def build_text_override_dxf(path: Path, *, insunits: int = 0, dimlunit: int = 5) -> Path:
    """Linear dimensions whose text overrides print another value, a fraction or stacked deviations; the drawing
    has no $INSUNITS and writes dimensions in ``dimlunit`` format (5: fractional inches)."""
    doc = new_drawing(insunits)
    doc.header["$DIMLUNIT"] = dimlunit
    msp = doc.modelspace()
    measured = (43.79, 73.68, 75.0, 38.31)
    for row, ((text, _, _, _), length) in enumerate(zip(TEXT_OVERRIDES, measured, strict=True)):
        y = row * 20.0
        msp.add_linear_dim(base=(0, y + 10), p1=(0, y), p2=(length, y), text=text).render()
    doc.saveas(path)
    return path
