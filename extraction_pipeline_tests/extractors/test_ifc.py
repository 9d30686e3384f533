"""IFC extractor: golden tests on a building written with ifcopenshell.api (see bim_builders), and an
optional pass over PyBase's own IFC files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from extraction_pipeline.errors import CorruptFileError, ErrorKind, UnsupportedIfcSchemaError
from extraction_pipeline.extractors import ifc
from extraction_pipeline.extractors.schema import ExtractionResult, FileFormat, IfcSpatialNode, SourceInfo
from extraction_pipeline_tests.extractors.bim_builders import (
    build_building_ifc,
    build_imperial_ifc4,
    build_revit_style_ifc,
)
from extraction_pipeline_tests.realworld import realworld_path


def _source(path: Path) -> SourceInfo:
    data = path.read_bytes()
    return SourceInfo(filename=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def _extract(path: Path, **options: object) -> ExtractionResult:
    return ifc.extract(path, _source(path), options)


@pytest.fixture(scope="module")
def building(tmp_path_factory: pytest.TempPathFactory) -> ExtractionResult:
    return _extract(build_building_ifc(tmp_path_factory.mktemp("ifc") / "building.ifc"))


def _walk(nodes: list[IfcSpatialNode]) -> list[IfcSpatialNode]:
    return [n for node in nodes for n in [node, *_walk(node.children)]]


def test_header_schema_and_units(building: ExtractionResult) -> None:
    assert building.format is FileFormat.IFC
    assert building.extractor_version == ifc.VERSION
    assert building.ifc is not None
    assert building.ifc.schema_identifier == "IFC4"
    assert building.ifc.project_name == "Test Project"
    assert building.units == "mm"
    assert building.ifc.units == {"length": "mm", "area": "m2", "volume": "m3"}  # assign_unit's defaults
    assert building.ifc.unit_scales == {"length": 0.001, "area": 1.0, "volume": 1.0}
    assert building.metadata["file_name"] == "building.ifc"
    assert building.metadata["author"] == ["Ada Lovelace"]
    assert building.metadata["organization"] == ["Analytical Engines Ltd"]
    assert building.metadata["entity_count"] == 41  # #1..#41 in the written file
    assert building.warnings == []


def test_spatial_hierarchy_with_storeys_in_elevation_order(building: ExtractionResult) -> None:
    assert building.ifc is not None
    [project] = building.ifc.hierarchy
    [site] = project.children
    [bldg] = site.children
    assert (project.ifc_class, site.ifc_class, bldg.ifc_class) == ("IfcProject", "IfcSite", "IfcBuilding")
    assert (site.name, bldg.name) == ("Test Site", "Test Building")
    assert [(s.ifc_class, s.name, s.elevation) for s in bldg.children] == [
        ("IfcBuildingStorey", "Ground Floor", 0.0),
        ("IfcBuildingStorey", "First Floor", 3000.0),
    ]
    ground, first = bldg.children
    assert [(space.ifc_class, space.name) for space in ground.children] == [("IfcSpace", "Room 101")]
    assert first.children == []


def test_counts_by_exact_class_never_double_count_subtypes(building: ExtractionResult) -> None:
    assert building.ifc is not None
    assert building.ifc.element_counts == {
        "IfcBuilding": 1,
        "IfcBuildingStorey": 2,
        "IfcDoor": 1,
        "IfcSite": 1,
        "IfcSlab": 2,
        "IfcSpace": 1,
        "IfcWall": 2,  # by_type("IfcWall") would say 3: it includes the IfcWallStandardCase
        "IfcWallStandardCase": 1,
    }


def test_elements_carry_type_storey_materials_psets_and_quantities(building: ExtractionResult) -> None:
    assert building.ifc is not None
    by_name = {element.name: element for element in building.ifc.elements}
    assert list(by_name) == ["W-01", "W-02", "W-03", "S-01", "S-02", "D-01"]  # file order
    wall = by_name["W-01"]
    assert wall.ifc_class == "IfcWall"
    assert len(wall.global_id) == 22
    assert wall.type_name == "WT-200"
    assert wall.storey == "Ground Floor"
    assert wall.materials == ["Concrete"]  # inherited from the wall type
    assert wall.property_sets == {"Pset_WallCommon": {"IsExternal": True, "FireRating": "REI60"}}
    assert wall.quantities == {"Qto_WallBaseQuantities": {"Length": 5000.0, "Height": 2800.0}}
    assert (by_name["W-03"].ifc_class, by_name["W-03"].type_name, by_name["W-03"].materials) == (
        "IfcWallStandardCase",
        None,
        [],
    )
    assert by_name["S-01"].materials == ["Screed"]
    assert by_name["S-02"].storey == "First Floor"
    assert by_name["D-01"].property_sets == {}


def test_materials_and_type_occurrences(building: ExtractionResult) -> None:
    assert building.ifc is not None
    assert building.ifc.materials == ["Concrete", "Screed"]
    assert building.ifc.types == {"IfcWallType:WT-200": 2}


def test_max_elements_caps_the_list_not_the_counts(tmp_path: Path) -> None:
    result = _extract(build_building_ifc(tmp_path / "building.ifc"), max_elements=2)
    assert result.ifc is not None
    assert [element.name for element in result.ifc.elements] == ["W-01", "W-02"]
    assert sum(result.ifc.element_counts.values()) == 11
    assert result.warnings == ["6 elements; details listed for the first 2 only (element_counts cover all of them)"]


def test_result_is_json_ready(building: ExtractionResult) -> None:
    data = building.to_json_dict()
    assert data["ifc"]["elements"][0]["property_sets"]["Pset_WallCommon"]["IsExternal"] is True


def test_truncated_file_is_corrupt(tmp_path: Path) -> None:
    full = build_building_ifc(tmp_path / "full.ifc").read_bytes()
    cut = tmp_path / "cut.ifc"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(CorruptFileError, match=r"cut\.ifc is truncated"):
        _extract(cut)


def test_syntax_error_mid_file_is_corrupt_not_a_silently_shorter_model(tmp_path: Path) -> None:
    # ifcopenshell stops parsing at the error and reports success with the instances read so far
    text = build_building_ifc(tmp_path / "full.ifc").read_text()
    start = text.index("=IFCSLAB(")
    broken = tmp_path / "broken.ifc"
    broken.write_text(text[:start] + "=IFCSLAB((((,$);\ngarbage;" + text[text.index(";\n", start) + 2 :])
    with pytest.raises(CorruptFileError, match=r"broken\.ifc cannot be read as IFC: the parser stopped before"):
        _extract(broken)


@pytest.mark.parametrize(
    "content",
    [
        b"this is not an IFC file\n",
        b"ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('NOT_A_SCHEMA'));\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n",
    ],
    ids=["garbage", "unknown-schema"],
)
def test_unreadable_file_is_corrupt(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.ifc"
    path.write_bytes(content)
    with pytest.raises(CorruptFileError, match=r"broken\.ifc cannot be read as IFC"):
        _extract(path)


# --- files as other tools write them (hand-written IFC2X3, see bim_builders.revit_style_ifc_text) ------------

UNNAMED_WARNING = (
    "2 quantities, 1 property, 1 property or quantity set without a Name (the schema allows it): "
    "listed as 'unnamed #<instance id>'"
)


def test_unset_names_of_quantities_properties_and_sets_never_reject_the_model(tmp_path: Path) -> None:
    result = _extract(build_revit_style_ifc(tmp_path / "revit.ifc", length_unit="MILLIMETRE"))
    assert result.ifc is not None
    assert result.ifc.schema_identifier == "IFC2X3"
    wall, parapet = result.ifc.elements
    assert (wall.ifc_class, wall.name, wall.storey) == ("IfcWallStandardCase", "Basic Wall:Generic 8in", "Level 1")
    # each unnamed entry keeps its own value under its own stable name: none is merged into another
    assert wall.quantities == {"BaseQuantities": {"Length": 20.0, "unnamed #61": 180.0, "unnamed #62": 120.0}}
    assert wall.property_sets == {
        "Pset_WallCommon": {"IsExternal": True, "unnamed #71": "orphan value"},
        "unnamed #75": {"Phase": "New Construction"},
    }
    assert (parapet.ifc_class, parapet.quantities, parapet.property_sets) == ("IfcWall", {}, {})
    assert result.warnings == [UNNAMED_WARNING]
    assert result.to_json_dict()["ifc"]["elements"][0]["quantities"]["BaseQuantities"]["unnamed #62"] == 120.0


def test_a_mistyped_property_value_costs_its_property_sets_only(tmp_path: Path) -> None:
    path = build_revit_style_ifc(tmp_path / "mistyped.ifc", length_unit="MILLIMETRE")
    # a placement where IsExternal's IfcBoolean belongs: ifcopenshell cannot read Pset_WallCommon
    path.write_text(path.read_text().replace("'IsExternal',$,IFCBOOLEAN(.T.),$", "'IsExternal',$,#41,$"))
    result = _extract(path)
    assert result.ifc is not None
    wall = result.ifc.elements[0]
    assert wall.property_sets == {}
    assert wall.quantities == {"BaseQuantities": {"Length": 20.0, "unnamed #61": 180.0, "unnamed #62": 120.0}}
    assert result.warnings == [
        UNNAMED_WARNING,
        "the property sets of 1 element(s) cannot be read (a value of the wrong type); left out",
    ]


def test_fragment_without_project_or_units_completes_with_warnings(tmp_path: Path) -> None:
    result = _extract(build_revit_style_ifc(tmp_path / "fragment.ifc", project=False, length_unit=None))
    assert result.ifc is not None
    assert result.ifc.project_name is None
    assert result.ifc.hierarchy == []
    assert result.ifc.element_counts == {"IfcWall": 1, "IfcWallStandardCase": 1}
    assert [(e.name, e.storey) for e in result.ifc.elements] == [
        ("Basic Wall:Generic 8in", None),
        ("Basic Wall:Parapet", None),
    ]
    assert (result.units, result.ifc.units, result.ifc.unit_scales) == (None, {}, {})
    assert result.warnings == [
        "fragment.ifc has no IfcProject: no spatial hierarchy to read",
        UNNAMED_WARNING,
        "without an IfcProject, the file assigns no units: lengths, areas and volumes are in unknown units",
    ]


def test_fragment_without_project_reads_its_unattached_units(tmp_path: Path) -> None:
    result = _extract(build_revit_style_ifc(tmp_path / "fragment.ifc", project=False, length_unit="FOOT"))
    assert result.units == "ft"
    assert result.warnings[-1] == (
        "without an IfcProject, the file assigns no units; they are read from an unattached IfcUnitAssignment"
    )


def test_project_without_units_completes_with_a_warning(tmp_path: Path) -> None:
    result = _extract(build_revit_style_ifc(tmp_path / "nounits.ifc", length_unit=None))
    assert result.ifc is not None and result.ifc.project_name == "Revit Style Project"
    assert result.units is None
    assert result.warnings == [
        UNNAMED_WARNING,
        "the IfcProject assigns no units: lengths, areas and volumes are in unknown units",
    ]


@pytest.mark.parametrize(
    ("length_unit", "units", "scales"),
    [
        (
            "FOOT",
            {"length": "ft", "area": "ft2", "volume": "ft3", "angle": "deg"},
            {"length": 0.3048, "area": 0.09290304, "volume": 0.028316846592, "angle": 0.0174532925199},
        ),
        (
            "INCH",
            {"length": "in", "area": "in2", "volume": "in3", "angle": "deg"},
            {"length": 0.0254, "area": 0.00064516, "volume": 1.6387064e-05, "angle": 0.0174532925199},
        ),
        (
            "MILLIMETRE",
            {"length": "mm", "area": "m2", "volume": "m3", "angle": "rad"},
            {"length": 0.001, "area": 1.0, "volume": 1.0, "angle": 1.0},
        ),
    ],
)
def test_units_are_named_with_their_scale_to_si(
    tmp_path: Path, length_unit: str, units: dict[str, str], scales: dict[str, float]
) -> None:
    result = _extract(build_revit_style_ifc(tmp_path / "units.ifc", length_unit=length_unit))
    assert result.ifc is not None
    assert result.units == units["length"]
    assert result.ifc.units == units
    assert result.ifc.unit_scales == scales
    assert result.warnings == [UNNAMED_WARNING]  # nothing about units: every one is named


def test_imperial_units_as_ifcopenshell_writes_them(tmp_path: Path) -> None:
    result = _extract(build_imperial_ifc4(tmp_path / "imperial.ifc"))
    assert result.ifc is not None
    assert result.units == "ft"
    assert result.ifc.units == {"length": "ft", "area": "ft2", "volume": "ft3", "angle": "deg"}
    assert result.ifc.unit_scales == {
        "length": 0.3048,
        "area": 0.09290304,
        "volume": 0.0283168467117,
        "angle": 0.0174532925199,
    }
    assert result.warnings == []


def test_an_unknown_conversion_based_unit_keeps_its_name_and_says_so(tmp_path: Path) -> None:
    path = build_revit_style_ifc(tmp_path / "survey.ifc", length_unit="FOOT")
    path.write_text(path.read_text().replace("'FOOT'", "'US SURVEY FOOT'").replace("0.3048)", "0.3048006096)"))
    result = _extract(path)
    assert result.ifc is not None
    assert (result.units, result.ifc.unit_scales["length"]) == ("US SURVEY FOOT", 0.3048006096)
    assert "the lengthunit unit 'US SURVEY FOOT' is not one this extractor names" in result.warnings


@pytest.mark.parametrize("schema", ["IFC4X1", "IFC4X3_RC2", "IFC4X3_RC4"])
def test_schemas_ifcopenshell_cannot_read_are_unsupported_not_corrupt(tmp_path: Path, schema: str) -> None:
    path = build_revit_style_ifc(tmp_path / "newer.ifc", schema=schema)
    readable = ifc.readable_schemas()
    assert {"IFC2X3", "IFC4"} <= set(readable)
    assert "HEADER_SECTION_SCHEMA" not in readable
    with pytest.raises(UnsupportedIfcSchemaError) as caught:
        _extract(path)
    assert (
        caught.value.message == f"newer.ifc: unsupported IFC schema {schema} (this build reads {', '.join(readable)})"
    )
    assert caught.value.kind is ErrorKind.PERMANENT
    assert caught.value.to_dict()["type"] == "UnsupportedIfcSchemaError"


# --- files we did not write ----------------------------------------------------------------------------


@pytest.mark.realworld
def test_realworld_ifc_files_all_complete() -> None:
    files = sorted(realworld_path("pybase", "ifc").glob("*.ifc"))
    assert len(files) == 31
    results = {path.name: _extract(path) for path in files}  # how fast: benchmarks/speed_claims.py

    def storeys(result: ExtractionResult) -> list[tuple[str | None, float | None]]:
        assert result.ifc is not None
        return [(n.name, n.elevation) for n in _walk(result.ifc.hierarchy) if n.ifc_class == "IfcBuildingStorey"]

    assert storeys(results["11_building_2_storeys.ifc"]) == [("Floor 1", 0.0), ("Floor 2", 3.5)]
    assert len(storeys(results["14_building_10_storeys.ifc"])) == 10
    assert results["23_schema_IFC2X3.ifc"].ifc.schema_identifier == "IFC2X3"  # type: ignore[union-attr]
    assert results["28_with_type_objects.ifc"].ifc.types == {  # type: ignore[union-attr]
        "IfcDoorType:Standard Door 900x2100": 3
    }
    assert results["16_with_materials.ifc"].ifc.materials == ["Concrete"]  # type: ignore[union-attr]
    spaces = results["17_with_spaces.ifc"].ifc.element_counts["IfcSpace"]  # type: ignore[union-attr]
    assert spaces == 4
    assert results["31_warehouse.ifc"].ifc.element_counts["IfcColumn"] == 12  # type: ignore[union-attr]
    # PyBase's generator leaves IfcProject.UnitsInContext empty; the unit comes from the file's assignment
    assert {result.units for result in results.values()} == {"m"}
