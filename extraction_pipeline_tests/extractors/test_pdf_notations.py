"""PDF dimensions in the notations real drawings print, the drawing's unit, and documents that have none."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from extraction_pipeline.extractors import pdf
from extraction_pipeline.extractors.pdf.drawing_units import unit_in_title_block
from extraction_pipeline.extractors.schema import ExtractionResult, SourceInfo, TitleBlock
from extraction_pipeline_tests.extractors.notation_builders import (
    DUAL_UNIT_TRUTH,
    FEET_INCH_TRUTH,
    METRIC_NOTATIONS_TRUTH,
    SCANNED_FEET_INCH_TRUTH,
    SMALL_DIMENSION_VALUE,
    SMALL_VERTICAL_VALUE,
    build_dual_unit_pdf,
    build_feet_inch_pdf,
    build_metric_notations_pdf,
    build_open_arrow_dimension_pdf,
    build_parts_list_document_pdf,
    build_scanned_feet_inch_pdf,
    build_schematic_with_arrows_pdf,
    build_slanted_dimension_pdf,
    build_small_dimension_pdf,
    build_small_vertical_dimension_pdf,
)


def run(path: Path) -> ExtractionResult:
    data = path.read_bytes()
    source = SourceInfo(filename=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    return pdf.extract(path, source, {})


def test_stacked_vertical_parenthesised_and_separate_tolerances_sit_on_their_value(tmp_path: Path) -> None:
    result = run(build_metric_notations_pdf(tmp_path / "metric.pdf"))

    got = sorted((d.value, d.unit, d.tolerance_plus, d.tolerance_minus) for d in result.dimensions)
    assert got == sorted(METRIC_NOTATIONS_TRUTH)
    assert result.units == "mm"
    stacked = next(d for d in result.dimensions if d.value == 16.0)
    assert stacked.text == "16 +0/-0,15"


def test_feet_inch_dimensions_are_inches_and_the_scale_note_is_no_dimension(tmp_path: Path) -> None:
    result = run(build_feet_inch_pdf(tmp_path / "section.pdf"))

    got = sorted((d.text, d.value) for d in result.dimensions)
    assert got == sorted(FEET_INCH_TRUTH)
    assert {d.unit for d in result.dimensions} == {"in"}
    assert result.units == "in"


def test_feet_inch_values_with_the_marks_a_scan_misreads_are_inches_and_notes_keep_their_own_reading(
    tmp_path: Path,
) -> None:
    result = run(build_scanned_feet_inch_pdf(tmp_path / "scanned.pdf"))

    feet_inch = sorted((d.text, d.value) for d in result.dimensions if d.value > 100)
    assert feet_inch == sorted(SCANNED_FEET_INCH_TRUTH)
    assert {d.unit for d in result.dimensions if d.value > 100} == {"in"}
    assert all(d.unit != "deg" or d.value == 30.0 for d in result.dimensions)  # 19° - 1° is no angle
    assert not any(d.value in (4.0, 51.0) for d in result.dimensions)  # 4 - 3" is a count and a size


def test_inch_with_mm_in_brackets_is_one_inch_dimension(tmp_path: Path) -> None:
    result = run(build_dual_unit_pdf(tmp_path / "dual.pdf"))

    got = sorted((d.value, d.tolerance_plus, d.tolerance_minus) for d in result.dimensions)
    assert got == sorted(DUAL_UNIT_TRUTH)
    assert {d.unit for d in result.dimensions} == {"in"}
    assert result.units == "in"


def test_a_parts_list_document_has_no_dimensions_and_no_unit(tmp_path: Path) -> None:
    result = run(build_parts_list_document_pdf(tmp_path / "bom.pdf"))

    assert result.dimensions == []
    assert result.units is None


def test_designators_and_part_values_beside_schematic_arrows_are_not_dimensions(tmp_path: Path) -> None:
    result = run(build_schematic_with_arrows_pdf(tmp_path / "schematic.pdf"))

    assert result.dimensions == []


def test_a_slanted_value_is_read_along_its_own_direction_with_its_deviations(tmp_path: Path) -> None:
    result = run(build_slanted_dimension_pdf(tmp_path / "slanted.pdf"))

    [dimension] = result.dimensions
    assert (dimension.value, dimension.tolerance_plus, dimension.tolerance_minus) == (6.0, 0.2, 0.0)
    assert dimension.text == "Ø6 +0,2/+0"
    assert "SECTION B-B" in [block.text for block in result.text_blocks]


@pytest.mark.parametrize("hatch_lines", [0, 3200], ids=["light page", "heavy page"])
def test_a_bare_value_between_long_open_arrowheads_is_a_dimension(tmp_path: Path, hatch_lines: int) -> None:
    result = run(build_open_arrow_dimension_pdf(tmp_path / "open_arrows.pdf", hatch_lines=hatch_lines))

    assert [(d.value, d.confidence) for d in result.dimensions] == [(85.0, 0.8)]


def test_a_bare_value_at_the_shoulder_of_a_small_dimensions_short_outside_arrow_is_a_dimension(tmp_path: Path) -> None:
    result = run(build_small_dimension_pdf(tmp_path / "small.pdf"))

    assert [(d.text, d.value, d.unit, d.confidence) for d in result.dimensions] == [
        ("4.60", SMALL_DIMENSION_VALUE, "mm", 0.8)
    ]


def test_a_bare_value_between_two_open_arrows_pointing_in_from_outside_is_a_dimension(tmp_path: Path) -> None:
    result = run(build_small_vertical_dimension_pdf(tmp_path / "small_vertical.pdf"))

    assert [(d.text, d.value, d.confidence) for d in result.dimensions] == [("6.14", SMALL_VERTICAL_VALUE, 0.8)]


def test_a_title_block_cell_names_the_unit() -> None:
    assert unit_in_title_block(TitleBlock(custom_fields={"UNITS": "MM"})) == "mm"
    assert unit_in_title_block(TitleBlock(custom_fields={"Unit": "inches"})) == "in"
    assert unit_in_title_block(TitleBlock(custom_fields={"SIZE": "A4"})) is None
