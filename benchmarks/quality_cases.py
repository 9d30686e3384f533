"""The labelled set of ``benchmarks/quality.py``: files generated with the test builders, each with the truth
its builder put into it, plus the real-world files in ``../shared/realworld/pybase/`` (whose truth is an
independent reading through the format libraries, made in ``quality.py``).

A truth field left ``None`` is not scored for that file (a builder whose content is ambiguous for a field).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the builders live with the tests

DEFAULT_REALWORLD = REPO.parent / "shared" / "realworld" / "pybase"
SUFFIXES = {"pdf": (".pdf",), "dxf": (".dxf",), "ifc": (".ifc",), "step": (".step", ".stp")}


@dataclass
class Case:
    name: str
    file_format: str  # "pdf", "dxf", "ifc", "step"
    path: Path
    origin: str = "generated"  # or "realworld"
    drawing: bool = True  # False: pages that are no drawing (schematic, prose, data table): ≤ 2 dimensions a page
    dimensions: list[float] | None = None  # the values of every dimension, once per occurrence
    tables: list[list[list[str]]] | None = None  # every table's cells, header row first
    title_block: dict[str, str] | None = None  # standard TitleBlock fields only
    ifc_counts: dict[str, int] | None = None  # products by exact class
    units: dict[str, str] | None = None  # {"length": "mm", ...}: result.units (DXF) or ifc/step units
    step_roots: list[str] | None = None  # product ids of the assembly roots (materials are none)
    step_geometry: dict[str, float] | None = None  # solids, volume (mm3), area (mm2)
    expect_error: str | None = None  # the typed error a file of this class must end with


# --- PDF ----------------------------------------------------------------------------------------------------


def _pdf_cases(tmp: Path) -> list[Case]:
    from extraction_pipeline_tests.extractors import pdf_builders as pb

    drawing_dims = [6.6, 6.6, 12.5, 20.0, 9.0, 5.0, 45.0]  # hole-table sizes and the callouts (see test_pdf)
    drawing_title = {
        "drawing_number": "DWG-1001",
        "title": "MOUNTING BRACKET",
        "revision": "B",
        "date": "2024-01-15",
        "author": "J. SMITH",
        "company": "ACME ENGINEERING",
        "scale": "1:2",
        "sheet": "1 OF 2",
        "material": "AL 6061-T6",
        "finish": "ANODIZED",
    }
    drawing = pb.build_drawing_pdf(tmp / "drawing.pdf")
    tables = [pb.HOLE_TABLE, pb.BOM_TABLE]
    cases = [Case("drawing.pdf", "pdf", drawing, dimensions=drawing_dims, tables=tables, title_block=drawing_title)]
    for degrees in (90, 270):
        turned = pb.build_rotated_copy(drawing, tmp / f"drawing_rot{degrees}.pdf", degrees)
        cases.append(
            Case(turned.name, "pdf", turned, dimensions=drawing_dims, tables=tables, title_block=drawing_title)
        )
    two_page = pb.build_two_page_pdf(tmp / "two_page.pdf")
    cases.append(
        Case(
            "two_page.pdf",
            "pdf",
            two_page,
            dimensions=[12.5, 20.0, 5.0, 45.0],
            tables=[],
            title_block={**drawing_title, "drawing_number": "DWG-2002"},
        )
    )
    strip = pb.build_title_strip_pdf(
        tmp / "title_strip.pdf",
        ["DRAWING NO DWG-5   REV C   SCALE 1:5   SHEET 2 OF 3", "MATERIAL: S235JR   DRAWN BY: K. LEE"],
    )
    strip_title = {
        "drawing_number": "DWG-5",
        "revision": "C",
        "scale": "1:5",
        "sheet": "2 OF 3",
        "material": "S235JR",
        "author": "K. LEE",
    }
    cases.append(Case("title_strip.pdf", "pdf", strip, dimensions=[], tables=[], title_block=strip_title))
    grid = pb.build_cell_grid_pdf(tmp / "cell_grid.pdf")
    grid_title = {"drawing_number": "BM-0000", "revision": "B", "scale": "1:2"}
    cases.append(Case("cell_grid.pdf", "pdf", grid, tables=[pb.cell_grid_rows(0)], title_block=grid_title))
    unruled = pb.build_unruled_table_pdf(tmp / "unruled_table.pdf")
    cases.append(Case("unruled_table.pdf", "pdf", unruled, tables=[pb.HOLE_TABLE]))
    parts = pb.build_parts_list_pdf(tmp / "parts_list.pdf")
    cases.append(Case("parts_list.pdf", "pdf", parts, drawing=False, dimensions=[], tables=[pb.LONG_PARTS_LIST]))
    for name, build in NON_DRAWING_PDFS.items():
        path, table = build(tmp / name)
        cases.append(Case(name, "pdf", path, drawing=False, dimensions=[], tables=table, title_block={}))
    return cases


def _new_pdf() -> FPDF:

    pdf = FPDF(orientation="P", unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "", 8)
    return pdf


def build_schematic_pdf(path: Path) -> tuple[Path, list[list[list[str]]]]:
    """A schematic sheet: resistor/capacitor designators with values, an IC with numbered pins, nets, and a
    part count with a thousands separator. Not a drawing: no dimension in it."""
    pdf = _new_pdf()
    parts = [("R18", "10k"), ("R9", "4k7"), ("C5", "100nF"), ("C12", "22pF"), ("R3", "0R"), ("L1", "10uH")]
    for index, (designator, value) in enumerate(parts):
        x, y = 60 + (index % 3) * 160, 120 + (index // 3) * 140
        pdf.rect(x, y, 40, 14)
        pdf.line(x - 30, y + 7, x, y + 7)
        pdf.line(x + 40, y + 7, x + 70, y + 7)
        pdf.text(x + 4, y - 4, designator)
        pdf.text(x + 4, y + 26, value)
    pdf.rect(250, 450, 80, 120)
    pdf.text(275, 445, "U1")
    for pin in range(1, 9):
        y = 462 + (pin - 1) * 14 if pin <= 4 else 462 + (8 - pin) * 14
        x = 235 if pin <= 4 else 340
        pdf.line(x - 15 if pin <= 4 else x - 10, y, x + 15 if pin <= 4 else x, y)
        pdf.text(x + (18 if pin <= 4 else -22), y + 3, str(pin))
    for net, (x, y) in {"VCC": (60, 420), "GND": (60, 600), "SDA": (420, 470), "SCL": (420, 500)}.items():
        pdf.text(x, y, net)
    pdf.text(60, 760, "ASSEMBLED UNITS 804,006   BOARD REV 3")
    pdf.output(str(path))
    return path, []


def build_prose_pdf(path: Path) -> tuple[Path, list[list[list[str]]]]:
    """Three columns of running text full of numbers (years, counts, sizes in words): no table, no dimension."""
    sentences = [
        "In 2019 the plant shipped 1,250 pumps to 14 countries.",
        "Each unit was tested for 48 hours before it left the line.",
        "About 3 in 100 needed a second seal, mostly in the first year.",
        "The new housing cut the weight by 12 percent.",
        "Service intervals grew from 6 to 9 months.",
        "Most customers run 2 or 3 pumps in parallel.",
    ]
    pdf = _new_pdf()
    for column in range(3):
        y = 80.0
        for repeat in range(14):
            text = sentences[(column + repeat) % len(sentences)]
            for start in range(0, len(text), 30):
                pdf.text(50 + column * 175, y, text[start : start + 30])
                y += 11
            y += 6
    pdf.output(str(path))
    return path, []


DATASHEET_TABLE = [
    ["Parameter", "Min", "Typ", "Max", "Unit"],
    ["Supply voltage", "2.7", "3.3", "5.5", "V"],
    ["Supply current", "", "1,200", "1,800", "uA"],
    ["Operating temperature", "-40", "", "125", "C"],
    ["Output rise time", "", "15", "25", "ns"],
]


def build_datasheet_table_pdf(path: Path) -> tuple[Path, list[list[list[str]]]]:
    """A datasheet's ruled table of electrical characteristics: numbers with units that are not lengths."""
    pdf = _new_pdf()
    y = 100.0
    for row in DATASHEET_TABLE:
        x = 60.0
        for width, text in zip((170.0, 60.0, 60.0, 60.0, 60.0), row, strict=True):
            pdf.set_xy(x, y)
            pdf.cell(width, 16, text, border=1)
            x += width
        y += 16
    pdf.output(str(path))
    return path, [DATASHEET_TABLE]


NON_DRAWING_PDFS: dict[str, Callable[[Path], tuple[Path, list[list[list[str]]]]]] = {
    "schematic.pdf": build_schematic_pdf,
    "prose_three_columns.pdf": build_prose_pdf,
    "datasheet_table.pdf": build_datasheet_table_pdf,
}


# --- DXF ----------------------------------------------------------------------------------------------------


def _dxf_cases(tmp: Path) -> list[Case]:
    from extraction_pipeline_tests.extractors import dxf_builders as db

    mm = {"length": "mm"}
    drawing_title = {
        "drawing_number": "DWG-2001",
        "title": "Bracket",
        "revision": "C",
        "date": "2024-03-01",
        "scale": "1:1",
        "material": "S235",
        "author": "A. Engineer",
    }
    drawing = db.build_drawing_dxf(tmp / "drawing.dxf")
    dims = [100.0, 15.0, 25.0, 45.0, 30.0, 40.0]
    cases = [
        Case("drawing.dxf", "dxf", drawing, dimensions=[100.0], tables=[], title_block=drawing_title, units=mm),
        Case(
            "drawing_without_eof.dxf",
            "dxf",
            db.write_without_eof(drawing, tmp / "drawing_without_eof.dxf"),
            dimensions=[100.0],
            tables=[],
            title_block=drawing_title,
            units=mm,
        ),
        Case("dimensions.dxf", "dxf", db.build_dimensions_dxf(tmp / "dimensions.dxf"), dimensions=dims, units=mm),
        Case(
            "dimensions_unrendered.dxf",
            "dxf",
            db.build_dimensions_dxf(tmp / "dimensions_unrendered.dxf", render=False),
            dimensions=dims,
            units=mm,
        ),
        Case(
            "dimensions_m.dxf",
            "dxf",
            db.build_dimensions_dxf(tmp / "dimensions_m.dxf", insunits=db.M),
            dimensions=dims,
            units={"length": "m"},
        ),
        Case(
            "text_title_block.dxf",
            "dxf",
            db.build_text_title_block_dxf(tmp / "text_title_block.dxf"),
            dimensions=[],
            title_block={"drawing_number": "TB-77", "title": "Gear Housing", "scale": "1:5"},
            units=mm,
        ),
    ]
    optional: list[tuple[str, str, dict[str, object]]] = [
        ("build_tables_dxf", "tables.dxf", {"dimensions": [], "tables": ["PARTS_TABLE", "REVISIONS_TABLE"]}),
        ("build_block_dimensions_dxf", "block_dimensions.dxf", {"dimensions": [25.0, 25.0, 25.0], "tables": []}),
    ]
    for builder, name, truth in optional:  # builders the DXF work adds: measured when present
        if hasattr(db, builder):
            tables = truth.get("tables")
            cells = [getattr(db, table) for table in tables] if isinstance(tables, list) else None
            build = getattr(db, builder)
            cases.append(
                Case(name, "dxf", build(tmp / name), dimensions=truth["dimensions"], tables=cells, units=mm)  # type: ignore[arg-type]
            )
    return cases


# --- IFC and STEP -------------------------------------------------------------------------------------------


def _ifc_cases(tmp: Path) -> list[Case]:
    from extraction_pipeline_tests.extractors import bim_builders as bb

    building_counts = {
        "IfcBuilding": 1,
        "IfcBuildingStorey": 2,
        "IfcDoor": 1,
        "IfcSite": 1,
        "IfcSlab": 2,
        "IfcSpace": 1,
        "IfcWall": 2,
        "IfcWallStandardCase": 1,
    }
    revit_counts = {"IfcBuilding": 1, "IfcBuildingStorey": 1, "IfcSite": 1, "IfcWall": 1, "IfcWallStandardCase": 1}
    walls = {"IfcWall": 1, "IfcWallStandardCase": 1}
    imperial = {"FOOT": "ft", "INCH": "in"}
    cases = [
        Case(
            "building.ifc",
            "ifc",
            bb.build_building_ifc(tmp / "building.ifc"),
            ifc_counts=building_counts,
            units={"length": "mm", "area": "m2", "volume": "m3"},
        ),
        Case(
            "revit_metric.ifc",
            "ifc",
            bb.build_revit_style_ifc(tmp / "revit_metric.ifc", length_unit="MILLIMETRE"),
            ifc_counts=revit_counts,
            units={"length": "mm", "area": "m2", "volume": "m3", "angle": "rad"},
        ),
        Case(
            "revit_no_units.ifc",
            "ifc",
            bb.build_revit_style_ifc(tmp / "revit_no_units.ifc", length_unit=None),
            ifc_counts=revit_counts,
            units={},
        ),
        Case(
            "fragment_no_project.ifc",
            "ifc",
            bb.build_revit_style_ifc(tmp / "fragment_no_project.ifc", project=False, length_unit=None),
            ifc_counts=walls,
            units={},
        ),
    ]
    mistyped = bb.build_revit_style_ifc(tmp / "revit_mistyped_value.ifc", length_unit="MILLIMETRE")
    mistyped.write_text(mistyped.read_text().replace("'IsExternal',$,IFCBOOLEAN(.T.),$", "'IsExternal',$,#41,$"))
    mm = {"length": "mm", "area": "m2", "volume": "m3", "angle": "rad"}
    cases.append(Case(mistyped.name, "ifc", mistyped, ifc_counts=revit_counts, units=mm))
    for name, symbol in imperial.items():
        path = bb.build_revit_style_ifc(tmp / f"revit_{symbol}.ifc", length_unit=name)
        units = {"length": symbol, "area": f"{symbol}2", "volume": f"{symbol}3", "angle": "deg"}
        cases.append(Case(path.name, "ifc", path, ifc_counts=revit_counts, units=units))
    for schema in ("IFC4X1", "IFC4X3_RC2", "IFC4X3_RC4"):
        path = bb.build_revit_style_ifc(tmp / f"schema_{schema}.ifc", schema=schema)
        cases.append(Case(path.name, "ifc", path, expect_error="UnsupportedIfcSchemaError"))
    return cases


def _step_cases(tmp: Path) -> list[Case]:
    from extraction_pipeline_tests.extractors import bim_builders as bb

    si = {"length": "mm", "angle": "rad", "solid_angle": "sr"}
    gearbox = bb.build_assembly_step(tmp / "gearbox.step")
    materials = tmp / "materials.step"
    materials.write_text(bb.material_step_text(), encoding="ascii")
    inch = tmp / "inch.step"
    inch.write_text(
        bb.assembly_step_text([bb.GEARBOX], []).replace(
            "#10=(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.MILLI.,.METRE.));",
            "#10=(CONVERSION_BASED_UNIT('INCH',#16)LENGTH_UNIT()NAMED_UNIT(*));\n"
            "#15=(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.MILLI.,.METRE.));\n"
            "#16=LENGTH_MEASURE_WITH_UNIT(LENGTH_MEASURE(25.4),#15);",
        ),
        encoding="ascii",
    )
    cases = _ocp_written_cases(tmp, si)
    return [
        *cases,
        Case("gearbox.step", "step", gearbox, units=si, step_roots=["ASM-100"]),
        Case("materials.step", "step", materials, units=si, step_roots=["ASM-100"]),
        Case("inch.step", "step", inch, units={**si, "length": "in"}, step_roots=["ASM-100"]),
    ]


def _ocp_written_cases(tmp: Path, si: dict[str, str]) -> list[Case]:
    """Solids written by OpenCascade itself (when the geometry extra is installed): a 10 x 20 x 30 box and the
    box beside a cylinder of radius 5 and height 40."""
    import importlib.util
    import math

    if importlib.util.find_spec("OCP") is None:
        return []
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox, BRepPrimAPI_MakeCylinder
    from OCP.gp import gp_Ax2, gp_Dir, gp_Pnt
    from OCP.Message import Message
    from OCP.STEPControl import STEPControl_StepModelType, STEPControl_Writer

    messenger = Message.DefaultMessenger_s()  # the writer's statistics would land in the report
    for printer in list(messenger.Printers()):
        messenger.RemovePrinter(printer)
    box = BRepPrimAPI_MakeBox(10.0, 20.0, 30.0).Shape()
    cylinder = BRepPrimAPI_MakeCylinder(gp_Ax2(gp_Pnt(20.0, 0.0, 0.0), gp_Dir(0, 0, 1)), 5.0, 40.0).Shape()
    cylinder_area = 2 * math.pi * 25.0 + 2 * math.pi * 5.0 * 40.0
    cases = []
    for name, shapes, truth in [
        ("ocp_box.step", [box], {"solids": 1, "volume": 6000.0, "area": 2200.0}),
        (
            "ocp_box_and_cylinder.step",
            [box, cylinder],
            {"solids": 2, "volume": 6000.0 + math.pi * 25.0 * 40.0, "area": 2200.0 + cylinder_area},
        ),
    ]:
        writer = STEPControl_Writer()
        for shape in shapes:
            writer.Transfer(shape, STEPControl_StepModelType.STEPControl_AsIs)
        writer.Write(str(tmp / name))
        cases.append(Case(name, "step", tmp / name, units=si, step_geometry=truth))
    return cases


def generated_cases(tmp: Path, formats: set[str]) -> tuple[list[Case], list[str]]:
    """The generated labelled set, and the formats whose builders could not run (with why)."""
    builders = {"pdf": _pdf_cases, "dxf": _dxf_cases, "ifc": _ifc_cases, "step": _step_cases}
    cases: list[Case] = []
    problems: list[str] = []
    for file_format, build in builders.items():
        if file_format not in formats:
            continue
        folder = tmp / file_format
        folder.mkdir(parents=True, exist_ok=True)
        try:
            cases.extend(build(folder))
        except Exception as exc:  # a builder changed under us: say so, measure the rest
            problems.append(f"{file_format}: the generated set could not be built ({type(exc).__name__}: {exc})")
    return cases, problems


def realworld_cases(root: Path, formats: set[str]) -> tuple[list[Case], list[str]]:
    cases: list[Case] = []
    notes: list[str] = []
    for file_format in sorted(formats):
        folder = root / file_format
        if not folder.is_dir():
            notes.append(f"{file_format}: no real-world files at {folder}; skipped")
            continue
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES[file_format]):
            cases.append(Case(path.name, file_format, path, origin="realworld"))
    return cases, notes
