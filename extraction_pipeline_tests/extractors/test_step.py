"""STEP extractor: golden tests on Part-21 files written in the tests (see bim_builders), the streaming
reader's edge cases, and an optional pass over PyBase's own STEP files."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import math
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from extraction_pipeline.errors import ConfigurationError, CorruptFileError, EmptyFileError
from extraction_pipeline.extractors import step, step_geometry, step_reader
from extraction_pipeline.extractors.schema import ExtractionResult, FileFormat, SourceInfo, StepAssemblyNode
from extraction_pipeline.extractors.step_geometry import NO_SHAPE_WARNING, NOT_INSTALLED_WARNING
from extraction_pipeline_tests.extractors.bim_builders import (
    BEARING,
    GEARBOX,
    SHAFT,
    StepPart,
    assembly_step_text,
    build_assembly_step,
    material_step_text,
)
from extraction_pipeline_tests.realworld import realworld_path

HAS_OCP = importlib.util.find_spec("OCP") is not None
# what a file of product structure without shapes says about geometry
NO_GEOMETRY = NO_SHAPE_WARNING if HAS_OCP else NOT_INSTALLED_WARNING


def _structure_warnings(result: ExtractionResult) -> list[str]:
    return [warning for warning in result.warnings if warning != NO_GEOMETRY]


def _source(path: Path) -> SourceInfo:
    data = path.read_bytes()
    return SourceInfo(filename=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def _extract(path: Path) -> ExtractionResult:
    return step.extract(path, _source(path), {})


def _write(tmp_path: Path, text: str, name: str = "part.step") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    return path


def _tree(nodes: list[StepAssemblyNode]) -> list[tuple[str, int, list]]:
    return [(node.product_id, node.quantity, _tree(node.children)) for node in nodes]


# --- the built assembly --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gearbox(tmp_path_factory: pytest.TempPathFactory) -> ExtractionResult:
    return _extract(build_assembly_step(tmp_path_factory.mktemp("step") / "gearbox.step"))


def test_header(gearbox: ExtractionResult) -> None:
    assert gearbox.format is FileFormat.STEP
    assert gearbox.extractor_version == step.VERSION
    assert gearbox.step is not None
    header = gearbox.step.header
    assert header.description == ["Gearbox assembly", "for tests"]
    assert header.implementation_level == "2;1"  # a ";" inside a string does not end the statement
    assert header.file_name == "gearbox.step"
    assert header.timestamp == "2024-05-06T07:08:09"
    assert header.author == ["Ada Lovelace"]
    assert header.organization == ["Analytical Engines Ltd"]
    assert header.preprocessor_version == "ST-DEVELOPER v18"
    assert header.originating_system == "SolidWorks 2023"
    assert header.authorization == "approved by QA"
    assert header.schema_identifiers == ["AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }"]


def test_products_assembly_units_and_counts(gearbox: ExtractionResult) -> None:
    assert gearbox.step is not None
    assert [(p.entity_id, p.id, p.name, p.description) for p in gearbox.step.products] == [
        (100, "ASM-100", "Gearbox", "Two-stage gearbox"),
        (200, "P-200", "Shaft", None),
        (300, "P-300", "Bearing 6204", None),
    ]
    assert _tree(gearbox.step.assembly) == [("ASM-100", 1, [("P-200", 1, []), ("P-300", 1, [])])]
    assert [child.name for child in gearbox.step.assembly[0].children] == ["Shaft", "Bearing 6204"]
    assert gearbox.step.units == {"length": "mm", "angle": "rad", "solid_angle": "sr"}
    assert gearbox.step.unit_scales == {"length": 0.001, "angle": 1.0, "solid_angle": 1.0}
    assert gearbox.units == "mm"
    # 8 context/unit instances + 3 products x (PRODUCT, FORMATION, DEFINITION) + 2 NAUO
    assert gearbox.step.entity_count == 19
    assert gearbox.metadata["product_count"] == 3
    assert gearbox.metadata["assembly_link_count"] == 2
    assert gearbox.warnings == [NO_GEOMETRY]
    assert gearbox.step.geometry is None


def test_without_ocp_the_result_says_geometry_was_not_computed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "OCP", None)  # "import OCP" raises ImportError, as when not installed
    result = _extract(build_assembly_step(tmp_path / "gearbox.step"))
    assert result.step is not None
    assert result.step.geometry is None
    assert result.warnings == [
        "geometry was not computed: the optional OCP (OpenCascade) package is not installed "
        "(pip install 'extraction_pipeline[geometry]')"
    ]
    assert [p.id for p in result.step.products] == ["ASM-100", "P-200", "P-300"]  # the structure still stands


def test_quantities_nesting_and_unused_products_as_roots(tmp_path: Path) -> None:
    stage = StepPart(400, "SA-400", "Input stage")
    spare = StepPart(500, "SP-500", "Spare seal")
    links = [(100, 400), (400, 200), (400, 300), (400, 300), (100, 300)]
    result = _extract(_write(tmp_path, assembly_step_text([GEARBOX, SHAFT, BEARING, stage, spare], links)))
    assert result.step is not None
    assert _tree(result.step.assembly) == [
        ("ASM-100", 1, [("SA-400", 1, [("P-200", 1, []), ("P-300", 2, [])]), ("P-300", 1, [])]),
        ("SP-500", 1, []),
    ]


def test_assembly_cycle_is_cut_with_a_warning(tmp_path: Path) -> None:
    # a cycle has no root at all, so add a root above it
    result = _extract(
        _write(tmp_path, assembly_step_text([GEARBOX, SHAFT, BEARING], [(100, 200), (200, 300), (300, 200)]))
    )
    assert result.step is not None
    assert _tree(result.step.assembly) == [("ASM-100", 1, [("P-200", 1, [("P-300", 1, [])])])]
    assert _structure_warnings(result) == ["assembly cycle through product #200 (P-300) cut"]


def test_encoded_names_and_escaped_quotes(tmp_path: Path) -> None:
    part = StepPart(200, "P-200", "M\\X2\\00FC\\X0\\ller's Getriebe \\X2\\03A903C9\\X0\\ \\S\\D \\X\\E9")
    result = _extract(_write(tmp_path, assembly_step_text([part], [])))
    assert result.step is not None
    assert result.step.products[0].name == "Müller's Getriebe Ωω Ä é"


@pytest.mark.parametrize(
    ("literal", "text"),
    [
        ("'it''s'", "it's"),
        ("'\\X2\\00E400F6\\X0\\'", "äö"),
        ("'\\X4\\0001F600\\X0\\'", "\U0001f600"),
        ("'\\S\\D'", "Ä"),  # 0x44 + 0x80 in ISO 8859-1
        ("'\\PE\\\\S\\D'", "Ф"),  # the same byte in ISO 8859-5 (Cyrillic)
        ("'a\\\\b'", "a\\b"),
        ("'wrapped\r\n line'", "wrapped line"),
    ],
)
def test_decode_string(literal: str, text: str) -> None:
    assert step_reader.decode_string(literal) == text


def test_comments_multiline_instances_and_semicolons_in_strings(tmp_path: Path) -> None:
    text = assembly_step_text([GEARBOX], []).replace(
        "#100=PRODUCT('ASM-100','Gearbox','Two-stage gearbox',(#2));",
        "/* a comment; with 'quotes' */#100=PRODUCT(\n  'ASM-100', /* id */\n  'Gear;box /* not a comment */',\n"
        "  $,\n  (#2));",
    )
    result = _extract(_write(tmp_path, text))
    assert result.step is not None
    assert [(p.id, p.name, p.description) for p in result.step.products] == [
        ("ASM-100", "Gear;box /* not a comment */", None)
    ]
    assert result.step.entity_count == 11


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 64])
def test_statements_do_not_depend_on_chunk_boundaries(chunk_bytes: int) -> None:
    data = b"ISO-10303-21;/* c; '' */#1=A('x;''y/*',(1.,2.));\n#2=(B()C(*))/**/;#3=D('/'/*/*/,'*');"
    expected = [b"ISO-10303-21", b"#1=A('x;''y/*',(1.,2.))", b"#2=(B()C(*))", b"#3=D('/' ,'*')"]
    assert list(step_reader.iter_statements(io.BytesIO(data), chunk_bytes)) == expected


def test_conversion_based_units_from_the_context(tmp_path: Path) -> None:
    text = (
        assembly_step_text([GEARBOX], [])
        .replace(
            "#14=(GEOMETRIC_REPRESENTATION_CONTEXT(3)",
            "#15=(CONVERSION_BASED_UNIT('INCH',#16)LENGTH_UNIT()NAMED_UNIT(#17));\n"
            "#16=LENGTH_MEASURE_WITH_UNIT(LENGTH_MEASURE(25.4),#10);\n"
            "#17=DIMENSIONAL_EXPONENTS(1.,0.,0.,0.,0.,0.,0.);\n"
            "#18=(CONVERSION_BASED_UNIT('DEGREE',#19)NAMED_UNIT(#17)PLANE_ANGLE_UNIT());\n"
            "#19=PLANE_ANGLE_MEASURE_WITH_UNIT(PLANE_ANGLE_MEASURE(0.0174532925),#11);\n"
            "#14=(GEOMETRIC_REPRESENTATION_CONTEXT(3)",
        )
        .replace("GLOBAL_UNIT_ASSIGNED_CONTEXT((#10,#11,#12))", "GLOBAL_UNIT_ASSIGNED_CONTEXT((#15,#18,#12))")
    )
    result = _extract(_write(tmp_path, text))
    assert result.step is not None
    assert result.step.units == {"length": "in", "angle": "deg", "solid_angle": "sr"}
    # the scales come from the file's own measures: 25.4 mm, 0.0174532925 rad
    assert result.step.unit_scales == {"length": 0.0254, "angle": 0.0174532925, "solid_angle": 1.0}
    assert result.units == "in"


@pytest.mark.parametrize(
    ("unit_lines", "length", "angle", "scales"),
    [
        (
            ("#10=(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT($,.METRE.));",),
            "m",
            "rad",
            {"length": 1.0, "angle": 1.0},
        ),
        (  # US spelling, as some writers emit it
            ("#10=(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.CENTI.,.METER.));",),
            "cm",
            "rad",
            {"length": 0.01, "angle": 1.0},
        ),
        (
            (
                "#10=(CONVERSION_BASED_UNIT('inches',#16)LENGTH_UNIT()NAMED_UNIT(#17));",
                "#15=(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.MILLI.,.METRE.));",
                "#16=(LENGTH_MEASURE_WITH_UNIT()MEASURE_WITH_UNIT(LENGTH_MEASURE(25.4),#15));",
                "#17=DIMENSIONAL_EXPONENTS(1.,0.,0.,0.,0.,0.,0.);",
                "#11=(CONVERSION_BASED_UNIT('DEGREES',#18)NAMED_UNIT(#17)PLANE_ANGLE_UNIT());",
                "#18=PLANE_ANGLE_MEASURE_WITH_UNIT(PLANE_ANGLE_MEASURE(0.0174532925199),#19);",
                "#19=(NAMED_UNIT(*)PLANE_ANGLE_UNIT()SI_UNIT($,.RADIAN.));",
            ),
            "in",
            "deg",
            {"length": 0.0254, "angle": 0.0174532925199},
        ),
        (  # a conversion factor that cannot be read: the vocabulary's scale
            ("#10=(CONVERSION_BASED_UNIT('FOOT',$)LENGTH_UNIT()NAMED_UNIT(*));",),
            "ft",
            "rad",
            {"length": 0.3048, "angle": 1.0},
        ),
    ],
    ids=["metre", "centimeter", "inches-degrees", "foot-without-factor"],
)
def test_one_unit_vocabulary_whatever_the_spelling(
    tmp_path: Path, unit_lines: tuple[str, ...], length: str, angle: str, scales: dict[str, float]
) -> None:
    text = assembly_step_text([GEARBOX], [])
    for line in unit_lines:  # replace #10/#11, or add the unit's helpers before the context #14
        number = line.split("=", 1)[0] + "="
        if number in text:
            start = text.index(number)
            text = text[:start] + line + text[text.index(";\n", start) + 1 :]
        else:
            text = text.replace("#14=(", line + "\n#14=(")
    result = _extract(_write(tmp_path, text.replace("(#10,#11,#12)", "(#10,#11)")))
    assert result.step is not None
    assert result.step.units == {"length": length, "angle": angle, "solid_angle": "sr"}
    assert result.step.unit_scales == {**scales, "solid_angle": 1.0}
    assert result.units == length


def test_a_missing_length_unit_is_a_warning(tmp_path: Path) -> None:
    text = assembly_step_text([GEARBOX], [])
    start = text.index("#10=")
    result = _extract(_write(tmp_path, text[:start] + text[text.index(";\n", start) + 2 :]))
    assert result.step is not None
    assert (result.units, result.step.units) == (None, {"angle": "rad", "solid_angle": "sr"})
    assert _structure_warnings(result) == ["the file defines no length unit: its lengths are in unknown units"]


def test_a_conversion_name_outside_the_vocabulary_is_kept_with_a_warning(tmp_path: Path) -> None:
    text = assembly_step_text([GEARBOX], []).replace(
        "#10=(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.MILLI.,.METRE.));",
        "#10=(CONVERSION_BASED_UNIT('US survey foot',#16)LENGTH_UNIT()NAMED_UNIT(*));\n"
        "#15=(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT($,.METRE.));\n"
        "#16=LENGTH_MEASURE_WITH_UNIT(LENGTH_MEASURE(0.3048006096),#15);",
    )
    result = _extract(_write(tmp_path, text))
    assert result.step is not None
    assert (result.units, result.step.unit_scales["length"]) == ("US survey foot", 0.3048006096)
    assert "the length unit 'US survey foot' is not one this extractor names; kept as written" in result.warnings


def test_materials_modelled_as_products_are_tagged_and_are_not_assembly_roots(tmp_path: Path) -> None:
    result = _extract(_write(tmp_path, material_step_text()))
    assert result.step is not None
    assert [(p.id, p.is_material) for p in result.step.products] == [
        ("ASM-100", False),
        ("P-200", False),
        ("P-300", False),
        ("RM-600", True),  # the stock P-200 is made from
        ("RM-700", True),  # category "raw material"
        ("RM-800", True),  # product context of discipline "material"
    ]
    assert _tree(result.step.assembly) == [("ASM-100", 1, [("P-200", 1, []), ("P-300", 1, [])])]
    assert result.metadata["material_product_count"] == 3


def test_no_units_is_a_warning(tmp_path: Path) -> None:
    text = assembly_step_text([GEARBOX], [])
    for unit_line in ("#10=", "#11=", "#12="):
        start = text.index(unit_line)
        text = text[:start] + text[text.index(";\n", start) + 2 :]
    result = _extract(_write(tmp_path, text))
    assert result.step is not None
    assert result.step.units == {}
    assert result.units is None
    # (a second warning says whether OpenCascade, when installed, could build the geometry)
    assert result.warnings[0] == "the file defines no SI_UNIT or CONVERSION_BASED_UNIT: its units are unknown"


# --- bad files -----------------------------------------------------------------------------------------


def test_truncated_file_is_corrupt(tmp_path: Path) -> None:
    text = assembly_step_text([GEARBOX, SHAFT], [(100, 200)])
    path = _write(tmp_path, text[: text.index("ENDSEC;\nEND-ISO")])
    with pytest.raises(CorruptFileError, match=r"part\.step is truncated: it has no END-ISO-10303-21 line"):
        _extract(path)


def test_file_cut_inside_a_string_is_corrupt(tmp_path: Path) -> None:
    text = assembly_step_text([GEARBOX], [])
    path = _write(tmp_path, text[: text.index("Two-stage")])
    with pytest.raises(CorruptFileError, match="ends inside a string"):
        _extract(path)


def test_not_a_step_file(tmp_path: Path) -> None:
    path = tmp_path / "drawing.step"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 100)
    with pytest.raises(CorruptFileError, match=r"drawing\.step is not a STEP file"):
        _extract(path)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ((",(#2));\n#101=", ",(#2);\n#101="), "#100 PRODUCT: the statement ends too early"),
        (
            ("'Next assembly relationship','',#102,", "'Next assembly relationship','',$,"),
            "#1000 NEXT_ASSEMBLY_USAGE_OCCURRENCE: relating_product_definition is not an instance reference",
        ),
        (
            (
                "#201=PRODUCT_DEFINITION_FORMATION_WITH_SPECIFIED_SOURCE('','',#200",
                "#201=PRODUCT_DEFINITION_FORMATION_WITH_SPECIFIED_SOURCE('',",
            ),
            "#201 PRODUCT_DEFINITION_FORMATION_WITH_SPECIFIED_SOURCE: unexpected ','",
        ),
    ],
    ids=["unclosed-product", "nauo-without-parent", "formation-missing-comma"],
)
def test_malformed_entities_of_interest_are_corrupt(tmp_path: Path, broken: tuple[str, str], message: str) -> None:
    text = assembly_step_text([GEARBOX, SHAFT], [(100, 200)])
    assert broken[0] in text
    with pytest.raises(CorruptFileError, match=r"part\.step is not a readable STEP file: " + re.escape(message)):
        _extract(_write(tmp_path, text.replace(broken[0], broken[1])))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.step"
    path.write_bytes(b"")
    with pytest.raises(EmptyFileError):
        _extract(path)


# --- streaming -----------------------------------------------------------------------------------------


def test_memory_does_not_grow_with_file_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(step, "_CHUNK_BYTES", 64 * 1024)
    text = assembly_step_text([GEARBOX, SHAFT], [(100, 200)])
    head, tail = text.split("ENDSEC;\nEND-ISO-10303-21;\n")
    points = "".join(f"#{n}=CARTESIAN_POINT('',(1.5,2.5,{n}.));\n" for n in range(5000, 45000))
    path = _write(tmp_path, head + points + "ENDSEC;\nEND-ISO-10303-21;\n" + tail)
    assert path.stat().st_size > 1_500_000
    source = _source(path)  # reads the whole file: before measuring
    tracemalloc.start()
    try:
        result = step.extract(path, source, {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.step is not None
    assert result.step.entity_count == 40_000 + 15  # 8 context/unit, 2 x 3 product, 1 NAUO
    assert peak < 500_000  # a few 64 KiB chunks and the kept products, not the 1.8 MB of entities


# --- geometry through OpenCascade (files written by OCP itself) ----------------------------------------

needs_ocp = pytest.mark.skipif(not HAS_OCP, reason="the optional OCP (OpenCascade) extra is not installed")


def _write_shapes_with_ocp(path: Path, shapes: list[Any]) -> Path:
    from OCP.STEPControl import STEPControl_StepModelType, STEPControl_Writer

    writer = STEPControl_Writer()
    for shape in shapes:
        writer.Transfer(shape, STEPControl_StepModelType.STEPControl_AsIs)
    writer.Write(str(path))
    return path


@needs_ocp
def test_geometry_of_a_box(tmp_path: Path) -> None:
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox

    result = _extract(_write_shapes_with_ocp(tmp_path / "box.step", [BRepPrimAPI_MakeBox(10.0, 20.0, 30.0).Shape()]))
    assert result.step is not None and result.step.geometry is not None
    geometry = result.step.geometry
    assert geometry.solids == 1
    assert geometry.volume == pytest.approx(6000.0)
    assert geometry.area == pytest.approx(2200.0)
    assert geometry.bounding_box is not None
    assert geometry.bounding_box.min == pytest.approx((0.0, 0.0, 0.0))
    assert geometry.bounding_box.max == pytest.approx((10.0, 20.0, 30.0))
    assert geometry.bounding_box.unit == "mm"
    assert result.units == "mm"
    assert result.warnings == []


@needs_ocp
def test_geometry_of_two_solids(tmp_path: Path) -> None:
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox, BRepPrimAPI_MakeCylinder
    from OCP.gp import gp_Ax2, gp_Dir, gp_Pnt

    box = BRepPrimAPI_MakeBox(gp_Pnt(-5.0, -5.0, 0.0), 10.0, 10.0, 10.0).Shape()
    cylinder = BRepPrimAPI_MakeCylinder(gp_Ax2(gp_Pnt(20.0, 0.0, 0.0), gp_Dir(0, 0, 1)), 5.0, 40.0).Shape()
    result = _extract(_write_shapes_with_ocp(tmp_path / "two.step", [box, cylinder]))
    assert result.step is not None and result.step.geometry is not None
    geometry = result.step.geometry
    assert geometry.solids == 2
    assert geometry.volume == pytest.approx(1000.0 + math.pi * 25.0 * 40.0)
    assert geometry.area == pytest.approx(600.0 + 2 * math.pi * 25.0 + 2 * math.pi * 5.0 * 40.0)
    assert geometry.bounding_box is not None
    assert geometry.bounding_box.min == pytest.approx((-5.0, -5.0, 0.0))
    assert geometry.bounding_box.max == pytest.approx((25.0, 5.0, 40.0))


@needs_ocp
def test_geometry_is_in_mm_whatever_the_file_unit(tmp_path: Path) -> None:
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox

    path = _write_shapes_with_ocp(tmp_path / "box.step", [BRepPrimAPI_MakeBox(10.0, 20.0, 30.0).Shape()])
    text = path.read_text()
    assert text.count("SI_UNIT(.MILLI.,.METRE.)") == 1
    path.write_text(text.replace("SI_UNIT(.MILLI.,.METRE.)", "SI_UNIT(.CENTI.,.METRE.)"))  # the same box in cm
    result = _extract(path)
    assert result.step is not None and result.step.geometry is not None
    assert (result.units, result.step.unit_scales["length"]) == ("cm", 0.01)
    assert result.step.geometry.volume == pytest.approx(6_000_000.0)  # mm3
    assert result.step.geometry.area == pytest.approx(220_000.0)  # mm2
    assert result.step.geometry.bounding_box is not None
    assert result.step.geometry.bounding_box.max == pytest.approx((100.0, 200.0, 300.0))
    assert result.step.geometry.bounding_box.unit == "mm"


def _damaged_box(tmp_path: Path) -> Path:
    """An OCP-written box whose first face points at a surface that does not exist."""
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox

    path = _write_shapes_with_ocp(tmp_path / "damaged.step", [BRepPrimAPI_MakeBox(10.0, 20.0, 30.0).Shape()])
    text = path.read_text()
    start = text.index("ADVANCED_FACE('',(")
    end = text.index(";", start)
    path.write_text(text[:start] + text[start:end].rsplit(",", 2)[0] + ",#99999,.F.)" + text[end:])
    return path


@needs_ocp
def test_opencascade_messages_stay_off_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = _damaged_box(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "extraction_pipeline.extractors.step_geometry", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    [line] = done.stdout.splitlines()  # OpenCascade's "*** ERR StepReaderData ..." is not printed
    assert set(json.loads(line)) == {"geometry", "warnings"}
    capfd.readouterr()  # OCP's writer, used above in this process, reports to stdout
    result = _extract(path)
    assert capfd.readouterr().out == ""
    # five faces of six: no solid, so no volume; the area and the box of what is there
    geometry = result.step.geometry if result.step is not None else None
    assert geometry is not None and geometry.bounding_box is not None
    assert (geometry.solids, geometry.volume, geometry.area) == (0, None, pytest.approx(1600.0))
    assert geometry.bounding_box.max == pytest.approx((10.0, 20.0, 30.0))


@pytest.mark.parametrize(("value", "computed"), [("off", False), ("0", False), ("on", True), ("TRUE", True)])
def test_geometry_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, computed: bool) -> None:
    runs: list[Path] = []

    def measured(path: Path, warnings: list[str], **kwargs: object) -> None:
        runs.append(path)

    monkeypatch.setattr(step, "measure_geometry", measured)
    result = step.extract(
        build_assembly_step(tmp_path / "gearbox.step"), _source(tmp_path / "gearbox.step"), {"geometry": value}
    )
    assert bool(runs) is computed
    assert result.warnings == ([] if computed else ["geometry was not computed: the 'geometry' option is off"])


def test_a_bad_geometry_option_is_a_configuration_error(tmp_path: Path) -> None:
    path = build_assembly_step(tmp_path / "gearbox.step")
    with pytest.raises(ConfigurationError, match="the 'geometry' option must be on or off, got 'sometimes'"):
        step.extract(path, _source(path), {"geometry": "sometimes"})


def test_structure_only_files_do_not_start_opencascade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("OpenCascade was started for a file without faces")

    monkeypatch.setattr(step_geometry, "_ocp_installed", lambda: True)
    monkeypatch.setattr(step_geometry.subprocess, "run", no_process)
    result = _extract(build_assembly_step(tmp_path / "gearbox.step"))
    assert result.warnings == [NO_SHAPE_WARNING]


@needs_ocp
def test_a_slow_measurement_is_a_warning(tmp_path: Path) -> None:
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox

    path = _write_shapes_with_ocp(tmp_path / "box.step", [BRepPrimAPI_MakeBox(1.0, 1.0, 1.0).Shape()])
    warnings: list[str] = []
    assert step_geometry.measure_geometry(path, warnings, timeout_seconds=0.001) is None
    assert warnings == ["geometry was not computed: OpenCascade took longer than 0.001 s"]


@needs_ocp
def test_opencascade_runs_apart_from_the_extracting_process(tmp_path: Path) -> None:
    # Its ~800 MiB of libraries would stay in the sandbox's warm child and count against the memory cap of
    # every later file. Here the extracting process has a cap OpenCascade does not fit under: the geometry is
    # lost with a warning, and the process neither loaded OCP nor lost the ability to allocate.
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox

    path = _write_shapes_with_ocp(tmp_path / "box.step", [BRepPrimAPI_MakeBox(10.0, 20.0, 30.0).Shape()])
    script = f"""
import json, resource, sys
from pathlib import Path
from extraction_pipeline.extractors import step
from extraction_pipeline.extractors.schema import SourceInfo
used = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize:")) * 1024
resource.setrlimit(resource.RLIMIT_AS, (used + 300 * 2**20, resource.RLIM_INFINITY))
result = step.extract(Path({str(path)!r}), SourceInfo(filename="box.step", size=1, sha256="0"), {{}})
still_allocates = len(bytearray(100 * 2**20)) > 0
print(json.dumps([result.warnings, result.step.geometry is None, "OCP" in sys.modules, still_allocates]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    [warnings, no_geometry, ocp_loaded, still_allocates] = json.loads(done.stdout.splitlines()[-1])
    assert (no_geometry, ocp_loaded, still_allocates) == (True, False, True)
    [warning] = warnings
    assert warning.startswith("geometry was not computed: OpenCascade "), warning


# --- files we did not write ----------------------------------------------------------------------------


@pytest.mark.realworld
def test_realworld_step_files_all_complete() -> None:
    folder = realworld_path("pybase", "step")
    files = sorted(path for path in folder.iterdir() if path.suffix in (".step", ".stp"))
    assert len(files) == 33
    # the structure reader (how fast: benchmarks/speed_claims.py)
    results = {path.name: step.extract(path, _source(path), {"geometry": "off"}) for path in files}
    # the six files with faces (surfaces without edges' vertices): OpenCascade builds nothing from them
    cylinder = _extract(folder / "05_cylinder.step")
    assert cylinder.warnings == [
        "the file defines no SI_UNIT or CONVERSION_BASED_UNIT: its units are unknown",
        NO_GEOMETRY,
    ]
    for parts in range(2, 10):
        [name] = [name for name in results if name.startswith(f"{parts + 10}_assembly_{parts}_parts")]
        model = results[name].step
        assert model is not None
        # PyBase's generator writes the assembly product and its parts but no NEXT_ASSEMBLY_USAGE_OCCURRENCE,
        # so every product stands alone as a root
        assert [p.id for p in model.products] == ["Assembly", *(f"Part{n}" for n in range(1, parts + 1))]
        assert len(model.assembly) == parts + 1
        assert all(node.children == [] for node in model.assembly)
    housing = results["30_bearing_housing.stp"].step
    assert housing is not None
    assert [(p.id, p.name) for p in housing.products] == [("ComplexPart", "Complex Part with Features")]
    assert housing.entity_count == 23
    assert {r.step.header.originating_system for r in results.values()} == {"PyBase Test Generator"}  # type: ignore[union-attr]
