"""Ordinate dimensions: values at the free ends of extension lines, in scale with a ``0`` datum."""

from __future__ import annotations

import hashlib
from pathlib import Path

from extraction_pipeline.extractors import pdf
from extraction_pipeline.extractors.pdf.dimension_lines import DimensionLines, Segment
from extraction_pipeline.extractors.pdf.model import Run
from extraction_pipeline.extractors.pdf.ordinate_dimensions import ordinate_values
from extraction_pipeline.extractors.schema import ExtractionResult, SourceInfo
from extraction_pipeline_tests.extractors.notation_builders import ORDINATE_VALUES, build_ordinate_dimension_pdf


def run(path: Path) -> ExtractionResult:
    data = path.read_bytes()
    source = SourceInfo(filename=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    return pdf.extract(path, source, {})


def test_ordinate_values_are_dimensions_and_the_table_column_beside_them_is_not(tmp_path: Path) -> None:
    result = run(build_ordinate_dimension_pdf(tmp_path / "ordinate.pdf"))

    got = sorted((d.label, d.value) for d in result.dimensions)
    assert got == sorted((printed, float(printed)) for printed, _ in ORDINATE_VALUES)
    assert all(d.confidence == 0.8 for d in result.dimensions)


def _run(text: str, right: float, middle: float, width: float = 20.0) -> Run:
    return Run(text=text, page=1, x0=right - width, top=middle - 5, x1=right, bottom=middle + 5)


def _lines_right_of(runs: list[Run]) -> DimensionLines:
    return DimensionLines(
        [], [Segment((r.x1 + 3, (r.top + r.bottom) / 2), (r.x1 + 80, (r.top + r.bottom) / 2)) for r in runs]
    )


def test_values_out_of_scale_with_their_distance_from_the_datum_are_no_ordinates() -> None:
    in_scale = [_run("0", 100, 100), _run("10", 100, 120), _run("25", 100, 150), _run("40", 100, 180)]
    out_of_scale = [_run("0", 100, 100), _run("10", 100, 120), _run("12", 100, 150), _run("3", 100, 180)]

    assert set(ordinate_values(in_scale, _lines_right_of(in_scale)).values()) == {"0", "10", "25", "40"}
    assert ordinate_values(out_of_scale, _lines_right_of(out_of_scale)) == {}


def test_a_column_of_numbers_between_table_rules_is_no_ordinate_family() -> None:
    column = [_run("0", 100, 100), _run("10", 100, 120), _run("20", 100, 140), _run("30", 100, 160)]
    # row rules run along each row's top and bottom, across the whole table, not from the numbers' side
    rules = [Segment((20, y), (200, y)) for y in (90, 110, 130, 150, 170)]
    cell_borders = [Segment((x, 90), (x, 170)) for x in (20, 102, 200)]

    assert ordinate_values(column, DimensionLines([], rules + cell_borders)) == {}
