"""DXF extractor: golden tests on drawings built with ezdxf (see dxf_builders.py for their exact content)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import ezdxf
import pytest
from ezdxf.document import Drawing
from ezdxf.query import EntityQuery

from extraction_pipeline.errors import ConfigurationError, CorruptFileError, EmptyFileError
from extraction_pipeline.extractors import dxf
from extraction_pipeline.extractors.dxf import layouts as dxf_layouts
from extraction_pipeline.extractors.registry import extractor_for
from extraction_pipeline.extractors.schema import (
    BlockAttribute,
    Bom,
    Dimension,
    DimensionType,
    ExtractionResult,
    FileFormat,
    GeometrySummary,
    Layer,
    SourceInfo,
    Table,
    TitleBlock,
)
from extraction_pipeline_tests.extractors import dxf_builders as builders
from extraction_pipeline_tests.realworld import realworld_path

Builder = Callable[[Path], Path]


def run(path: Path, **options: object) -> ExtractionResult:
    source = SourceInfo(filename=path.name, size=path.stat().st_size, sha256="0" * 64)
    return dxf.extract(path, source, options)


def by_type(result: ExtractionResult, kind: DimensionType) -> list[Dimension]:
    return [d for d in result.dimensions if d.dimension_type is kind]


# --- units and dimensions --------------------------------------------------------------------------------


def test_dimensions_of_a_millimetre_drawing(tmp_path: Path) -> None:
    result = run(builders.build_dimensions_dxf(tmp_path / "dims.dxf", insunits=builders.MM))

    assert result.format is FileFormat.DXF
    assert result.extractor_version == dxf.VERSION
    assert result.units == "mm"
    assert result.metadata["insunits"] == 4
    assert result.metadata["measurement"] == 1
    assert result.metadata["measurement_system"] == "metric"
    linear_100, linear_40 = by_type(result, DimensionType.LINEAR)
    assert (linear_100.value, linear_100.unit, linear_100.layer) == (100.0, "mm", "DIMS")
    assert (linear_100.tolerance_plus, linear_100.tolerance_minus, linear_100.label) == (0.1, 0.05, None)
    assert (linear_40.value, linear_40.label, linear_40.fit) == (40.0, "40 H7", "H7")
    assert (linear_40.tolerance_plus, linear_40.tolerance_minus) == (None, None)
    assert [(d.value, d.unit) for d in by_type(result, DimensionType.RADIUS)] == [(15.0, "mm")]
    assert [(d.value, d.unit) for d in by_type(result, DimensionType.DIAMETER)] == [(25.0, "mm")]
    assert [(d.value, d.unit) for d in by_type(result, DimensionType.ANGULAR)] == [(45.0, "deg")]
    assert [(d.value, d.unit) for d in by_type(result, DimensionType.ORDINATE)] == [(30.0, "mm")]
    assert all(d.confidence == 1.0 for d in result.dimensions)
    assert len(result.dimensions) == 6
    assert result.warnings == []


def test_a_drawing_in_metres_reports_metres_not_millimetres(tmp_path: Path) -> None:
    result = run(builders.build_dimensions_dxf(tmp_path / "dims.dxf", insunits=builders.M))

    assert result.units == "m"
    assert result.metadata["insunits"] == 6
    assert result.metadata["drawing_units"] == "m"
    assert result.extents is not None and result.extents.unit == "m"
    linear_100 = by_type(result, DimensionType.LINEAR)[0]
    assert (linear_100.value, linear_100.unit, linear_100.tolerance_plus) == (100.0, "m", 0.1)
    assert {d.unit for d in result.dimensions} == {"m", "deg"}


def test_convert_to_converts_every_length_but_not_angles(tmp_path: Path) -> None:
    path = builders.build_dimensions_dxf(tmp_path / "dims.dxf", insunits=builders.M)
    native = run(path)
    result = run(path, convert_to="mm")

    assert result.units == "mm"
    assert result.metadata["drawing_units"] == "m"
    assert (result.metadata["converted_to"], result.metadata["conversion_factor"]) == ("mm", 1000.0)
    linear_100 = by_type(result, DimensionType.LINEAR)[0]
    assert (linear_100.value, linear_100.unit) == (100_000.0, "mm")
    assert (linear_100.tolerance_plus, linear_100.tolerance_minus) == (100.0, 50.0)
    assert [(d.value, d.unit) for d in by_type(result, DimensionType.ANGULAR)] == [(45.0, "deg")]
    assert native.extents is not None and result.extents is not None
    assert result.extents.max == pytest.approx(tuple(v * 1000 for v in native.extents.max))
    assert result.extents.unit == "mm"


def test_an_unknown_convert_to_unit_is_a_configuration_error(tmp_path: Path) -> None:
    path = builders.build_dimensions_dxf(tmp_path / "dims.dxf")
    with pytest.raises(ConfigurationError, match="furlong"):
        run(path, convert_to="furlong")


def test_a_unitless_drawing_claims_no_unit(tmp_path: Path) -> None:
    result = run(builders.build_dimensions_dxf(tmp_path / "dims.dxf", insunits=0))

    assert result.units is None
    assert result.metadata["insunits"] == 0
    assert by_type(result, DimensionType.LINEAR)[0].unit == "unitless"
    assert any("$INSUNITS=0" in warning for warning in result.warnings)


def test_dimensions_without_a_geometry_block_are_still_measured(tmp_path: Path) -> None:
    # ezdxf's audit would delete such DIMENSIONs; the extractor reads the file as it is.
    path = builders.build_dimensions_dxf(tmp_path / "dims.dxf", render=False)
    assert all(d.dxf.get("geometry") is None for d in ezdxf.readfile(path).modelspace().query("DIMENSION"))

    result = run(path)

    assert sorted(d.value for d in result.dimensions) == [15.0, 25.0, 30.0, 40.0, 45.0, 100.0]
    linear_100 = by_type(result, DimensionType.LINEAR)[0]
    assert (linear_100.tolerance_plus, linear_100.tolerance_minus) == (0.1, 0.05)
    assert result.geometry_summary is not None and result.geometry_summary.dimensions == 6
    assert result.extents is not None and result.metadata["extents_source"] == "computed"


# --- blocks, BOM, title block ----------------------------------------------------------------------------

PARTS = [
    {"ITEM": "1", "PART_NO": "P-1", "DESCRIPTION": "Shaft", "QTY": "2", "MATERIAL": "Steel"},
    {"ITEM": "2", "PART_NO": "P-2", "DESCRIPTION": "Bearing", "QTY": "4", "MATERIAL": "Bronze"},
    {"ITEM": "3", "PART_NO": "P-3", "DESCRIPTION": "Washer", "QTY": "8", "MATERIAL": "Steel"},
]


def test_every_insert_keeps_its_own_attributes(tmp_path: Path) -> None:
    result = run(builders.build_parts_dxf(tmp_path / "parts.dxf", PARTS))

    part = next(block for block in result.blocks if block.name == "PART")
    assert part.insert_count == 3
    assert part.base_point == (5.0, 5.0, 0.0)
    assert part.entity_count == 1 + len(builders.PART_TAGS)  # the outline plus one ATTDEF per tag
    assert part.attributes == [[BlockAttribute(tag=t, value=v) for t, v in values.items()] for values in PARTS]
    assert all(not block.name.startswith("*") for block in result.blocks)


def test_attributed_part_inserts_form_the_bom(tmp_path: Path) -> None:
    result = run(builders.build_parts_dxf(tmp_path / "parts.dxf", PARTS))

    assert result.bom == Bom(headers=list(builders.PART_TAGS), items=PARTS, total_items=3)
    assert result.title_block is None


def test_title_block_from_attributes(tmp_path: Path) -> None:
    result = run(builders.build_drawing_dxf(tmp_path / "drawing.dxf", drawing_number="DWG-4711"))

    assert result.title_block == TitleBlock(
        drawing_number="DWG-4711",
        title="Bracket",
        revision="C",
        date="2024-03-01",
        author="A. Engineer",
        scale="1:1",
        material="S235",
        custom_fields={"CHECKED_BY": "B. Checker"},
    )
    assert result.bom is None
    assert [(d.value, d.unit, d.dimension_type) for d in result.dimensions] == [(100.0, "mm", DimensionType.LINEAR)]
    layer_counts = {layer.name: layer.entity_count for layer in result.layers}
    assert layer_counts == {"0": 1, "Defpoints": 0, "OUTLINE": 2, "DIMS": 1}


def test_title_block_in_paperspace(tmp_path: Path) -> None:
    doc = builders.new_drawing()
    builders.add_title_block(doc, doc.paperspace("Layout1"), {"DRAWING_NUMBER": "PS-1", "SHEET": "2 of 3"})
    doc.saveas(tmp_path / "paper.dxf")

    result = run(tmp_path / "paper.dxf")

    assert result.title_block == TitleBlock(drawing_number="PS-1", sheet="2 of 3")
    assert result.metadata["layouts"] == {"Model": 0, "Layout1": 1}


def test_title_block_from_labelled_texts_in_the_bottom_right(tmp_path: Path) -> None:
    result = run(builders.build_text_title_block_dxf(tmp_path / "text_title.dxf"))

    assert result.title_block == TitleBlock(drawing_number="TB-77", title="Gear Housing", scale="1:5")


def test_title_strip_text_is_split_into_its_fields(tmp_path: Path) -> None:
    # the line benchmarks/extractor_throughput.py writes into its PDFs, as one TEXT
    path = builders.build_text_title_strip_dxf(tmp_path / "strip.dxf", ["DRAWING NO: BM-0000   REV: B   SCALE: 1:2"])

    assert run(path).title_block == TitleBlock(drawing_number="BM-0000", revision="B", scale="1:2")


def test_title_strip_texts_with_several_labels(tmp_path: Path) -> None:
    lines = [
        "DWG NO: DWG-4410 REV: C   SCALE: 1:2",  # a known label with a colon splits after one space too
        "TITLE: REV A BRACKET   DATE: 2024-01-15   SHEET 1 OF 2",  # REV (no colon, no wide gap) is in the title
        "DRAWN BY: J. SMITH   MATERIAL: AL 6061-T6   PROJECT: ALPHA   ORDER REF: PO-4471",
        "CHECKED BY: K. LEE  APPROVED: M. WU",  # unknown labels only: not title-block fields in a DXF
        "NOTE: BREAK EDGES.  FINISH TO SPEC",  # a new sentence, not a FINISH field
    ]
    path = builders.build_text_title_strip_dxf(tmp_path / "strips.dxf", lines)

    assert run(path).title_block == TitleBlock(
        drawing_number="DWG-4410",
        title="REV A BRACKET",
        revision="C",
        date="2024-01-15",
        author="J. SMITH",
        scale="1:2",
        sheet="1 OF 2",
        material="AL 6061-T6",
        custom_fields={"PROJECT": "ALPHA", "ORDER REF": "PO-4471"},
    )


def test_title_strip_mtext_lines_and_labels_without_colons(tmp_path: Path) -> None:
    path = builders.build_text_title_strip_dxf(
        tmp_path / "mtext.dxf",
        ["DWG NO MT-1   REV C   SHEET 2 OF 3"],
        mtext="TITLE: GEAR HOUSING\\PDATE: 2024-01-15\\PSCALE: 1:5",
    )

    assert run(path).title_block == TitleBlock(
        drawing_number="MT-1", title="GEAR HOUSING", revision="C", date="2024-01-15", scale="1:5", sheet="2 OF 3"
    )


# --- ACAD_TABLE ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell_format", ["R2004", "R2007"])
def test_acad_tables_become_tables_with_title_header_layout_and_insert_point(tmp_path: Path, cell_format: str) -> None:
    result = run(builders.build_tables_dxf(tmp_path / "tables.dxf", cell_format=cell_format))

    assert result.tables == [
        Table(
            headers=["ITEM", "PART NO", "QTY"],
            rows=[["1", "P-1", "2"], ["2", "P-2", "4"]],
            bbox=(10.0, 168.0, 100.0, 200.0),  # 3 columns of 30 right of x=10, 4 rows of 8 below y=200
            num_rows=2,
            num_columns=3,
            layout="Model",
            title="PARTS LIST",
            insert_point=(10.0, 200.0, 0.0),
        ),
        Table(
            headers=["REV", "DATE"],
            rows=[["A", "2024-01-15"], ["B", "2024-03-01"]],
            bbox=(300.0, 35.0, 340.0, 50.0),
            num_rows=2,
            num_columns=2,
            layout="Layout1",
            insert_point=(300.0, 50.0, 0.0),
        ),
    ]
    assert result.warnings == []


def test_table_positions_follow_convert_to(tmp_path: Path) -> None:
    result = run(builders.build_tables_dxf(tmp_path / "tables.dxf"), convert_to="m")

    assert [(t.bbox, t.insert_point) for t in result.tables] == [
        ((0.01, 0.168, 0.1, 0.2), (0.01, 0.2, 0.0)),
        ((0.3, 0.035, 0.34, 0.05), (0.3, 0.05, 0.0)),
    ]


# --- what block inserts show -----------------------------------------------------------------------------


def test_dimensions_and_texts_of_blocks_are_listed_once_per_insert(tmp_path: Path) -> None:
    result = run(builders.build_block_dimensions_dxf(tmp_path / "blocks.dxf"))

    # DETAIL at (100, 0), at (200, 0) scaled 2, and nested in SHEET at (0, 50) + (0, 100); the value is the
    # block's own measurement, the box where the insert shows it, the layer the insert's for a layer-0 entity
    assert [(d.value, d.unit, d.layer, d.bbox, d.confidence) for d in result.dimensions] == [
        (25.0, "mm", "VIEWS", (100.0, 0.0, 125.0, 10.225), 1.0),
        (25.0, "mm", "VIEWS", (200.0, 0.0, 250.0, 20.45), 1.0),
        (25.0, "mm", "SHEETS", (0.0, 150.0, 25.0, 160.225), 1.0),
    ]
    assert [(t.text, t.layer, t.font_size) for t in result.text_blocks] == [
        ("A", "0", 2.5),
        ("M5x0.8", "NOTES", 2.5),
        ("B", "0", 5.0),
        ("M5x0.8", "NOTES", 5.0),
        ("C", "SHEETS", 2.5),
        ("M5x0.8", "NOTES", 2.5),
    ]
    assert [t.bbox[:2] for t in result.text_blocks if t.text == "M5x0.8" and t.bbox] == [
        (100.0, -5.713328868),
        (200.0, -11.426657736),
        (0.0, 144.286671132),
    ]
    assert [(t.designation, t.layer) for t in result.threads] == [("M5x0.8", "NOTES")] * 3
    assert result.geometry_summary is not None
    assert (result.geometry_summary.dimensions, result.geometry_summary.texts, result.geometry_summary.inserts) == (
        0,
        0,
        3,
    )


def test_minsert_cells_and_self_referencing_blocks(tmp_path: Path) -> None:
    doc = ezdxf.readfile(builders.build_block_dimensions_dxf(tmp_path / "blocks.dxf"))
    grid = {"row_count": 2, "column_count": 3, "row_spacing": 50, "column_spacing": 40}
    doc.modelspace().add_blockref("DETAIL", (500, 0), dxfattribs=grid)
    loop = doc.blocks.new(name="LOOP")  # a reference cycle AutoCAD refuses, written by a careless script
    loop.add_linear_dim(base=(0, 10), p1=(0, 0), p2=(7, 0)).render()
    loop.add_blockref("LOOP", (10, 10))
    doc.modelspace().add_blockref("LOOP", (0, -100))
    doc.saveas(tmp_path / "grid.dxf")

    result = run(tmp_path / "grid.dxf")

    values = [d.value for d in result.dimensions]
    assert values == [25.0] * 3 + [25.0] * 6 + [7.0]  # the cycle is followed once, not forever
    corners = sorted((d.bbox[0], d.bbox[1]) for d in result.dimensions[3:9] if d.bbox)
    assert corners == [(500.0 + 40 * column, 50.0 * row) for column in range(3) for row in range(2)]
    cycle = "blocks insert themselves (directly or through other blocks): LOOP; left out of the extents"
    assert result.warnings == [cycle]
    assert result.extents is not None and result.metadata["extents_source"] == "computed"


def test_what_block_inserts_show_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dxf_layouts, "MAX_SHOWN_BY_INSERTS", 4)

    result = run(builders.build_block_dimensions_dxf(tmp_path / "blocks.dxf"))

    # the first insert's ATTRIB, DIMENSION and TEXT, then the second insert's ATTRIB
    assert [d.value for d in result.dimensions] == [25.0]
    assert [t.text for t in result.text_blocks] == ["A", "M5x0.8", "B"]
    assert "block inserts show more than 4 dimensions and texts: only the first are read" in result.warnings


DIMENSION_ENTITY_TYPES = "DIMENSION ARC_DIMENSION LARGE_RADIAL_DIMENSION"


def ezdxf_dimension_count(doc: Drawing) -> int:
    """Independent count: each layout's dimension entities plus, per INSERT (MINSERT cells counted), those of
    its block, nested blocks followed."""

    def shown_by(inserts: EntityQuery, depth: int) -> int:
        return sum(insert.mcount * in_block(insert.dxf.name, depth + 1) for insert in inserts)

    def in_block(name: str, depth: int) -> int:
        block = doc.blocks.get(name)
        if block is None or depth > 16:
            return 0
        return len(block.query(DIMENSION_ENTITY_TYPES)) + shown_by(block.query("INSERT"), depth)

    return sum(
        len(layout.query(DIMENSION_ENTITY_TYPES)) + shown_by(layout.query("INSERT"), 0) for layout in doc.layouts
    )


def ezdxf_table_count(doc: Drawing) -> int:
    return sum(len(layout.query("ACAD_TABLE")) for layout in doc.layouts)


def entity_dimension_count(result: ExtractionResult) -> int:
    return len([d for d in result.dimensions if d.confidence == 1.0])


@pytest.mark.parametrize(
    "build",
    [
        builders.build_block_dimensions_dxf,
        builders.build_dimensions_dxf,
        builders.build_tables_dxf,
        builders.build_leader_frame_and_arc_dxf,
    ],
)
def test_dimension_and_table_counts_equal_an_independent_ezdxf_query(tmp_path: Path, build: Builder) -> None:
    path = build(tmp_path / "drawing.dxf")
    doc = ezdxf.readfile(path)

    result = run(path)

    assert entity_dimension_count(result) == ezdxf_dimension_count(doc)
    assert len(result.tables) == ezdxf_table_count(doc)


# --- layers, geometry, texts -----------------------------------------------------------------------------


def test_layers_with_state_and_counts_over_model_and_paper_space(tmp_path: Path) -> None:
    result = run(builders.build_layers_dxf(tmp_path / "layers.dxf"))

    layers = {layer.name: layer for layer in result.layers}
    assert layers["VISIBLE"] == Layer(
        name="VISIBLE", color=5, linetype="DASHED", lineweight=50, is_on=True, entity_count=7
    )
    assert (layers["HIDDEN"].is_on, layers["HIDDEN"].is_frozen, layers["HIDDEN"].entity_count) == (False, False, 3)
    assert (layers["FROZEN"].is_on, layers["FROZEN"].is_frozen, layers["FROZEN"].entity_count) == (True, True, 3)
    assert (layers["LOCKED"].is_locked, layers["LOCKED"].entity_count) == (True, 2)  # both in paperspace
    assert layers["0"].entity_count == 3
    assert sum(layer.entity_count for layer in result.layers) == 18


def test_geometry_summary_counts_model_and_paper_space(tmp_path: Path) -> None:
    result = run(builders.build_layers_dxf(tmp_path / "layers.dxf"))

    assert result.geometry_summary == GeometrySummary(
        lines=3,
        circles=1,
        arcs=1,
        polylines=2,
        splines=1,
        ellipses=1,
        points=1,
        hatches=1,
        solids=2,
        meshes=1,
        texts=3,
        other=1,  # the XLINE
        total=18,
    )
    assert result.metadata["layouts"] == {"Model": 16, "Layout1": 2}
    assert [(block.text, block.layer) for block in result.text_blocks] == [
        ("MODEL NOTE", "0"),
        ("Second note", "0"),
        ("PAPER NOTE", "LOCKED"),
    ]
    assert result.text_blocks[2].font_size == 3.5
    x0, y0, x1, y1 = result.text_blocks[2].bbox or (0, 0, 0, 0)
    assert (x0, x1 > x0 + 20, y0 < 10 < y1) == (10.0, True, True)


def test_mtext_formatting_codes_become_plain_text(tmp_path: Path) -> None:
    result = run(builders.build_texts_dxf(tmp_path / "texts.dxf"))

    assert result.text_blocks[0].text == "Bold red\nline two"
    assert result.text_blocks[0].layer == "NOTES"
    assert result.text_blocks[0].font_size == 3.5
    assert result.text_blocks[1].text == "Ø12 H7"  # %%c decoded


def test_annotations_from_texts_without_double_counting(tmp_path: Path) -> None:
    result = run(builders.build_texts_dxf(tmp_path / "texts.dxf"))

    assert [(t.designation, t.nominal_diameter, t.pitch, t.layer) for t in result.threads] == [
        ("M8x1.25", 8.0, 1.25, "NOTES")
    ]
    assert [(f.parameter, f.value, f.unit) for f in result.surface_finishes] == [("Ra", 1.6, "um")]
    # the DIMENSION entity, then the Ø12 H7 callout; "100 ±0.1" restates the entity and "42" is no callout
    assert [(d.value, d.dimension_type, d.fit, d.confidence) for d in result.dimensions] == [
        (100.0, DimensionType.LINEAR, None, 1.0),
        (12.0, DimensionType.DIAMETER, "H7", 0.8),
    ]
    assert result.dimensions[1].layer == "NOTES" and result.dimensions[1].unit == "mm"


def test_multileader_text_tolerance_frames_and_arc_dimensions(tmp_path: Path) -> None:
    result = run(builders.build_leader_frame_and_arc_dxf(tmp_path / "newer.dxf"))

    assert [(t.text, t.font_size, t.bbox) for t in result.text_blocks] == [("M6 THRU", 4.0, (20.0, 20.0, 20.0, 20.0))]
    assert [(t.designation, t.pitch) for t in result.threads] == [("M6", 1.0)]
    assert [(g.characteristic, g.tolerance, g.datums) for g in result.gdt] == [("position", 0.05, ["A"])]
    assert [(d.value, d.dimension_type) for d in result.dimensions] == [(round(5 * math.pi, 9), DimensionType.LINEAR)]
    assert result.geometry_summary is not None
    assert (result.geometry_summary.dimensions, result.geometry_summary.other) == (1, 2)


# --- extents and metadata --------------------------------------------------------------------------------


def test_extents_fall_back_to_the_header_when_modelspace_is_empty(tmp_path: Path) -> None:
    doc = builders.new_drawing()
    doc.modelspace().dxf.extmin = (-5, -5, 0)  # ezdxf writes these as $EXTMIN / $EXTMAX on saving
    doc.modelspace().dxf.extmax = (95, 45, 0)
    doc.saveas(tmp_path / "empty.dxf")

    result = run(tmp_path / "empty.dxf")

    assert result.extents is not None
    assert (result.extents.min, result.extents.max, result.extents.unit) == ((-5, -5, 0), (95, 45, 0), "mm")
    assert result.metadata["extents_source"] == "header"
    assert result.geometry_summary == GeometrySummary()


def test_unset_header_extents_are_not_reported(tmp_path: Path) -> None:
    doc = builders.new_drawing()  # ezdxf writes $EXTMIN=+1e20 / $EXTMAX=-1e20: "never computed"
    doc.saveas(tmp_path / "empty.dxf")

    result = run(tmp_path / "empty.dxf")

    assert result.extents is None and result.metadata["extents_source"] is None


def test_metadata_names_version_layouts_and_header(tmp_path: Path) -> None:
    result = run(builders.build_drawing_dxf(tmp_path / "drawing.dxf"))

    assert (result.metadata["dxf_version"], result.metadata["acad_release"]) == ("AC1024", "R2010")
    assert result.metadata["layouts"] == {"Model": 4, "Layout1": 0}
    assert result.metadata["header"]["$INSUNITS"] == 4
    assert result.metadata["header"]["$ACADVER"] == "AC1024"
    assert isinstance(result.metadata["header"]["$TDCREATE"], str)  # ISO date, not a Julian day number
    result.to_json_dict()  # JSON-ready


# --- bad files -------------------------------------------------------------------------------------------


def test_a_truncated_file_is_corrupt(tmp_path: Path) -> None:
    whole = builders.build_drawing_dxf(tmp_path / "whole.dxf")
    for fraction in (0.1, 0.5, 0.99):
        cut = builders.write_truncated_copy(whole, tmp_path / "cut.dxf", keep_fraction=fraction)
        with pytest.raises(CorruptFileError, match=r"cut\.dxf is truncated"):
            run(cut)


def test_random_bytes_are_corrupt(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError, match=r"noise\.dxf is not a DXF file"):
        run(builders.write_random_bytes(tmp_path / "noise.dxf"))


def test_an_empty_file_is_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.dxf").write_bytes(b"")
    with pytest.raises(EmptyFileError):
        run(tmp_path / "empty.dxf")


def test_a_damaged_but_readable_file_is_repaired_with_a_warning(tmp_path: Path) -> None:
    whole = builders.build_drawing_dxf(tmp_path / "whole.dxf", drawing_number="DWG-9")
    damaged = builders.write_without_entities_endsec(whole, tmp_path / "damaged.dxf")
    with pytest.raises(ezdxf.DXFStructureError):
        ezdxf.readfile(damaged)

    result = run(damaged)

    assert result.warnings == [
        "damaged.dxf was damaged and has been repaired on reading: 1 problem(s) reported",
        "repair: DXF structure error: missing ENDSEC tag.",
    ]
    assert result.title_block is not None and result.title_block.drawing_number == "DWG-9"
    assert [d.value for d in result.dimensions] == [100.0]


def test_a_file_missing_only_its_eof_marker_is_read_with_a_warning(tmp_path: Path) -> None:
    # unrendered dimensions: they survive only because the strict reader (no audit) reads the file
    whole = builders.build_dimensions_dxf(tmp_path / "whole.dxf", render=False)
    without_eof = builders.write_without_eof(whole, tmp_path / "no_eof.dxf")
    with pytest.raises(ezdxf.DXFStructureError, match="EOF"):
        ezdxf.readfile(without_eof)

    result = run(without_eof)

    assert result.warnings == ["no_eof.dxf has no EOF marker: it ends after a whole section and was read as it is"]
    assert result.dimensions == run(whole).dimensions
    assert len(result.dimensions) == 6


def test_a_file_cut_between_two_entities_is_truncated(tmp_path: Path) -> None:
    whole = builders.build_drawing_dxf(tmp_path / "whole.dxf")
    cut = builders.write_cut_after_an_entity(whole, tmp_path / "cut.dxf")
    ezdxf.recover.readfile(cut)  # recover reads it without complaint, silently without what was cut off

    with pytest.raises(CorruptFileError, match=r"cut\.dxf is truncated: the DXF file stops before its end"):
        run(cut)


def test_a_repair_recover_does_not_report_is_not_called_a_repair_of_0_problems(tmp_path: Path) -> None:
    whole = builders.build_drawing_dxf(tmp_path / "whole.dxf")
    unordered = builders.write_with_unordered_point_codes(whole, tmp_path / "unordered.dxf")
    with pytest.raises(ezdxf.DXFStructureError, match="Missing required y coordinate"):
        ezdxf.readfile(unordered)
    _, auditor = ezdxf.recover.readfile(unordered)
    assert (auditor.fixes, auditor.errors) == ([], [])

    result = run(unordered)

    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("unordered.dxf does not follow the DXF structure (Missing required y")
    assert result.warnings[0].endswith("); read with ezdxf.recover")
    assert "problem(s)" not in result.warnings[0]
    line = next(layer for layer in result.layers if layer.name == "OUTLINE")
    assert line.entity_count == 2  # the repaired LINE is kept


def test_damage_recover_cannot_read_is_a_permanent_error(tmp_path: Path) -> None:
    whole = builders.build_drawing_dxf(tmp_path / "whole.dxf")
    broken = builders.write_with_invalid_group_code(whole, tmp_path / "broken.dxf")

    with pytest.raises(CorruptFileError, match=r'broken\.dxf is a damaged DXF file that cannot be repaired: .*"abc"'):
        run(broken)


def test_an_old_file_reports_its_own_version_not_the_one_ezdxf_upgraded_it_to(tmp_path: Path) -> None:
    path = tmp_path / "r26.dxf"
    path.write_text(builders.AC1003_LINE_DXF)
    assert ezdxf.readfile(path).dxfversion == "AC1009"  # what ezdxf makes of it in memory

    result = run(path)

    assert (result.metadata["dxf_version"], result.metadata["acad_release"]) == ("AC1003", "R2.6")
    assert result.metadata["loaded_as"] == "AC1009"
    assert result.metadata["header"]["$ACADVER"] == "AC1003"
    assert result.metadata["header"]["$TDCREATE"] == "2000-01-01T12:00:00"  # the file's, not the time of reading
    assert result.warnings == []
    assert result.geometry_summary is not None and result.geometry_summary.lines == 1


def test_the_registry_finds_this_module() -> None:
    assert extractor_for(FileFormat.DXF).VERSION == dxf.VERSION


# --- real-world files ------------------------------------------------------------------------------------

# Facts checked with ezdxf on PyBase's 48 files: 12 of them hold DIMENSION entities (this many each);
# leader_annotations.dxf only mentions "dimension" in a text.
REALWORLD_DIMENSION_ENTITIES = {
    "architectural_floor_plan.dxf": 1,
    "baseline_dimensions.dxf": 4,
    "concentric_circles.dxf": 1,
    "dimension_chain.dxf": 4,
    "dimension_tolerance.dxf": 1,
    "dimensions_various.dxf": 4,
    "dxf_r2013_version.dxf": 1,
    "dxf_r2018_version.dxf": 1,
    "linear_dimensions_only.dxf": 4,
    "mechanical_part_detailed.dxf": 6,
    "multi_layer_complex.dxf": 1,
    "radial_dimensions_only.dxf": 4,
}


@pytest.mark.realworld
def test_realworld_dxf_files() -> None:
    files = sorted(realworld_path("pybase", "dxf").glob("*.dxf"))
    assert len(files) == 48
    results = {path.name: run(path) for path in files}  # how fast: benchmarks/speed_claims.py

    assert {result.units for result in results.values()} == {"m"}
    entity_dimensions = {
        name: len([d for d in result.dimensions if d.confidence == 1.0])
        for name, result in results.items()
        if any(d.confidence == 1.0 for d in result.dimensions)
    }
    assert entity_dimensions == REALWORLD_DIMENSION_ENTITIES
    assert all(d.unit in ("m", "deg") for r in results.values() for d in r.dimensions if d.confidence == 1.0)
    for path in files:
        doc = ezdxf.readfile(path)
        result = results[path.name]
        assert entity_dimension_count(result) == ezdxf_dimension_count(doc), path.name
        assert len(result.tables) == ezdxf_table_count(doc) == 0, path.name
        assert result.metadata["dxf_version"] == doc.header["$ACADVER"], path.name  # R2010+ files are not upgraded
    warned = {name: result.warnings for name, result in results.items() if result.warnings}
    assert warned == {"viewport_layouts.dxf": ["entities use layers missing from the layer table: VIEWPORTS"]}

    parts = results["blocks_with_attributes.dxf"]
    assert parts.bom is not None
    assert [item["PART_NUMBER"] for item in parts.bom.items] == ["P-101", "P-102", "P-103"]
    part_block = next(block for block in parts.blocks if block.name == "PART")
    assert [attributes[0].value for attributes in part_block.attributes] == ["P-101", "P-102", "P-103"]

    title = results["title_block_standard.dxf"].title_block
    assert title == TitleBlock(revision="B", date="2024-01-15", scale="1:2")
    threads = results["threaded_hole_callout.dxf"].threads
    assert [t.designation for t in threads] == ["M6x1.0", "M8x1.25", "M10x1.5"]
    finishes = results["surface_finish_symbols.dxf"].surface_finishes
    assert [(f.parameter, f.value) for f in finishes] == [("Ra", 1.6), ("Ra", 3.2)]


def test_a_text_override_prints_the_value_and_its_stacked_deviations(tmp_path: Path) -> None:
    result = run(builders.build_text_override_dxf(tmp_path / "overrides.dxf"))

    got = sorted((d.value, d.tolerance_plus, d.tolerance_minus) for d in result.dimensions)
    assert got == sorted((value, plus, minus) for _, value, plus, minus in builders.TEXT_OVERRIDES)
    assert {d.text for d in result.dimensions} >= {"43 7/8", "Ø73.64", "75 +0/-0.05"}


def test_a_drawing_without_insunits_in_fractional_format_is_in_inches(tmp_path: Path) -> None:
    result = run(builders.build_text_override_dxf(tmp_path / "fractional.dxf", dimlunit=5))

    assert result.units == "in"
    assert {d.unit for d in result.dimensions} == {"in"}
    assert any("format" in warning for warning in result.warnings)


def test_a_drawing_without_insunits_in_decimal_format_claims_no_unit(tmp_path: Path) -> None:
    result = run(builders.build_text_override_dxf(tmp_path / "decimal.dxf", dimlunit=2))

    assert result.units is None
