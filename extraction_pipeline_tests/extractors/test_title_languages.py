"""Title blocks beyond English ISO/ANSI templates: labels in other languages, each value read from its own cell,
revision tables, dates as printed with their ISO form, architectural strips, nested DXF title block inserts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from extraction_pipeline.extractors import dxf
from extraction_pipeline.extractors.pdf.drawing import drawing_result
from extraction_pipeline.extractors.pdf.tables import label_value_tables, unruled_tables
from extraction_pipeline.extractors.pdf.title_block import find_title_block
from extraction_pipeline.extractors.schema import FileFormat, SourceInfo, TitleBlock
from extraction_pipeline.extractors.title_dates import iso_date
from extraction_pipeline.extractors.title_revisions import latest_revision
from extraction_pipeline.extractors.title_values import fits
from extraction_pipeline.extractors.title_vocabulary import TITLE_LABELS, label_pattern
from extraction_pipeline_tests.extractors import dxf_builders
from extraction_pipeline_tests.extractors import title_builders as sheets
from extraction_pipeline_tests.extractors.test_pdf import run


def _title_block(tmp_path: Path, sheet: sheets.Sheet) -> TitleBlock | None:
    return run(sheets.build_sheet_pdf(tmp_path / "sheet.pdf", sheet)).title_block


def test_catalan_solidworks_template_labels_over_and_under_their_values(tmp_path: Path) -> None:
    assert _title_block(tmp_path, sheets.CATALAN_SOLIDWORKS) == TitleBlock(
        drawing_number="BCN-M06-P03A",  # Referència, value under it in its cell
        title="Hot block",  # Peça:, value right of it
        revision="V1.1",
        date="03/09/2015",
        author="Vicenç Villa",  # Dibuixat
        scale="2:1",
        sheet="1/1",
        material="AW 2030",  # the label is printed under its value: not the Referència under the label
        custom_fields={"QUANT": "1", "MIDES MÀX": "18 x 15 x 10", "COMPROVAT": "Bernat Poll", "DATE ISO": "2015-09-03"},
    )


def test_a_watermark_laid_over_the_cells_is_not_read_into_their_values(tmp_path: Path) -> None:
    block = _title_block(tmp_path, sheets.WATERMARKED_CATALAN)
    assert block is not None
    assert (block.sheet, block.author, block.scale, block.revision) == ("1/1", "Vicenç Villa", "2:1", "V1.1")
    assert block.custom_fields["COMPROVAT"] == "Bernat Poll"


@pytest.mark.parametrize(
    ("language", "material", "finish"),
    [("en", "ALUMINIUM 6082-T6", "ANODIZED BLACK"), ("es", "ACERO S275JR", "GALVANIZADO")],
)
def test_a_cell_referring_to_the_notes_takes_the_value_the_notes_give(
    tmp_path: Path, language: str, material: str, finish: str
) -> None:
    block = _title_block(tmp_path, sheets.notes_named_sheet(language))
    assert block is not None
    assert (block.material, block.finish) == (material, finish)
    assert (block.drawing_number, block.title) == ("NT-5120", "SENSOR BRACKET")


@pytest.mark.parametrize(("value_size", "read"), [(9.7, True), (7.0, False)])
def test_sizes_ocr_estimated_compared_with_a_margin(value_size: float, read: bool) -> None:
    """A value a little smaller than its label as OCR sized them is its value; one far smaller (a note in the
    cell's corner) is not."""
    block, _, _ = find_title_block([sheets.ocr_read_cells_page(value_size)], [])
    if not read:
        assert block is None
        return
    assert block is not None
    assert (block.title, block.drawing_number, block.date) == ("Specification", "SM42-1684", "2015-03-09")


def test_german_label_value_grid(tmp_path: Path) -> None:
    assert _title_block(tmp_path, sheets.GERMAN_GRID) == TitleBlock(
        drawing_number="ZN-4711-02",
        title="Lagerdeckel",
        revision="B",
        date="14.03.2023",
        author="M. Müller",
        company="Müller GmbH",
        scale="1:2",
        sheet="1 von 2",
        material="S235JR",
        finish="verzinkt",
        custom_fields={"DATE ISO": "2023-03-14"},
    )


def test_french_label_rows_over_value_rows_read_an_ambiguous_date_day_first(tmp_path: Path) -> None:
    assert _title_block(tmp_path, sheets.FRENCH_ROWS) == TitleBlock(
        drawing_number="PL-220-A",
        title="Support moteur",
        revision="C",
        date="05/04/2022",
        author="A. Martin",
        company="Ateliers Martin",
        scale="1:5",
        sheet="2/3",
        material="Aluminium 6061",
        custom_fields={"DATE ISO": "2022-04-05"},  # French labels: day first
    )


def test_czech_bilingual_labels_and_a_sheet_printed_in_pieces(tmp_path: Path) -> None:
    assert _title_block(tmp_path, sheets.CZECH_INVENTOR) == TitleBlock(
        drawing_number="mini-heaterblock-1D",
        title="MINI HEATERBLOCK",
        revision="1D",
        date="8.1.2020",
        author="Dan Novák",
        scale="3 : 1",
        sheet="1/2",
        material="EN AW-7075 T6",
        custom_fields={"DATE ISO": "2020-01-08"},
    )


def test_no_field_takes_a_neighbouring_cells_value(tmp_path: Path) -> None:
    # REV beside a tolerance note, SCALE beside the DWG NO cell, DATE beside a scale: all three left empty
    assert _title_block(tmp_path, sheets.EMPTY_CELLS_BESIDE_VALUES) == TitleBlock(
        drawing_number="4910", title="SPADE TERMINAL", author="BOONE"
    )


def test_revision_is_the_revision_tables_latest_row(tmp_path: Path) -> None:
    result = run(sheets.build_sheet_pdf(tmp_path / "sheet.pdf", sheets.REVISION_TABLE_SHEET))
    assert result.title_block == TitleBlock(drawing_number="RT-100", title="BRACKET", revision="C")
    assert [t.headers for t in result.tables] == [["REV", "DESCRIPTION", "DATE"]]


def test_architectural_strip_without_labels(tmp_path: Path) -> None:
    assert _title_block(tmp_path, sheets.ARCHITECTURAL_STRIP) == TitleBlock(
        drawing_number="A-301",
        title="Building Sections",
        date="12.11.2014",
        scale='1/4" = 1\'-0"',
        custom_fields={"PROJECT": "David/Susan Schultz 3232 Aalseth Lane"},
    )


def test_vertical_title_strip_read_in_its_own_direction(tmp_path: Path) -> None:
    result = run(sheets.build_vertical_strip_pdf(tmp_path / "strip.pdf"))
    assert result.title_block == TitleBlock(
        title="GRADING PLAN",  # the largest turned line; the client and address are smaller
        date="4-30-13",
        author="JDOY",
        company="acmeworks",  # the logo word at the strip's far end, not its smaller tagline
        scale="AS SHOWN",
        sheet="1 OF 1",
        custom_fields={"DATE ISO": "2013-04-30"},
    )


def test_title_block_insert_nested_in_a_border_block(tmp_path: Path) -> None:
    path = sheets.build_nested_title_block_dxf(tmp_path / "border.dxf")
    result = dxf.extract(path, SourceInfo(filename="border.dxf", size=path.stat().st_size, sha256="0" * 64), {})
    assert result.title_block == TitleBlock(title="Flange", date="11/10/2017", scale="1:1")


def test_dxf_text_labels_in_other_languages(tmp_path: Path) -> None:
    lines = ["Zeichnungsnr.: ZN-1", "Maßstab: 1:2", "Benennung: Welle"]
    path = dxf_builders.build_text_title_strip_dxf(tmp_path / "strip.dxf", lines)
    result = dxf.extract(path, SourceInfo(filename="strip.dxf", size=path.stat().st_size, sha256="0" * 64), {})
    assert result.title_block == TitleBlock(drawing_number="ZN-1", title="Welle", scale="1:2")
    path = dxf_builders.build_text_title_strip_dxf(tmp_path / "cjk.dxf", ["图号: GB-2024-01", "比例: 1:5"])
    result = dxf.extract(path, SourceInfo(filename="cjk.dxf", size=path.stat().st_size, sha256="0" * 64), {})
    assert result.title_block == TitleBlock(drawing_number="GB-2024-01", scale="1:5")


@pytest.mark.parametrize(
    ("printed", "day_first", "iso"),
    [
        ("03/09/2015", True, "2015-09-03"),  # d/m/y where the labels say so
        ("03/09/2015", False, None),  # ambiguous in an English title block
        ("30/10/2015", False, "2015-10-30"),  # a day over 12 decides
        ("1.15.08", False, "2008-01-15"),  # m.d.yy
        ("4-30-13", False, "2013-04-30"),
        ("8.1.2020", True, "2020-01-08"),  # d.m.yyyy
        ("2024-02-03", False, "2024-02-03"),
        ("2023年4月6日", False, "2023-04-06"),
        ("12 MAR 2021", False, "2021-03-12"),
        ("31/02/2020", True, None),  # no such day
        ("4-30--13", False, "2013-04-30"),  # a scan's OCR read the second hyphen twice
    ],
)
def test_dates_in_the_forms_printed(printed: str, day_first: bool, iso: str | None) -> None:
    assert iso_date(printed, day_first=day_first) == iso


@pytest.mark.parametrize(
    ("field", "printed"),
    [
        ("drawing_number", "Zeichnungsnr."), ("drawing_number", "图号"), ("drawing_number", "CISLO VYKRESU"),
        ("title", "Benennung"), ("title", "Désignation"), ("title", "名称"), ("title", "NAZEV"),
        ("scale", "Maßstab"), ("scale", "MASSSTAB"), ("scale", "Échelle"), ("scale", "比例"),
        ("material", "Werkstoff"), ("material", "Matière"), ("material", "材料"),
        ("revision", "Versió plànol"), ("author", "Dibuixat"), ("sheet", "Hoja / Total"),
    ],
)  # fmt: skip
def test_labels_match_in_any_case_with_or_without_accents(field: str, printed: str) -> None:
    assert any(re.fullmatch("(?i)" + label_pattern(alias), printed) for alias in TITLE_LABELS[field])


@pytest.mark.parametrize(
    ("field", "value", "fitting"),
    [
        ("scale", "4910", False), ("scale", "2.5X", True), ("scale", "1\" = 50'", True),
        ("scale", "1/4\" = 1'-0\"", True), ("scale", "NTS", True),
        ("revision", "ANGULAR ± 10", False), ("revision", "V1.1", True), ("date", "2.5X", False),
        ("date", "1.15.08", True), ("author", "1.15.08", False), ("sheet", "/", False), ("material", "-", False),
    ],
)  # fmt: skip
def test_a_value_that_does_not_look_like_its_field_is_passed_over(field: str, value: str, fitting: bool) -> None:
    assert fits(field, value) is fitting


def test_latest_revision_by_date_else_by_code() -> None:
    header = ["REV", "DESCRIPTION", "DATE"]
    assert (
        latest_revision([header, ["B", "x", "2024-03-02"], ["C", "y", "2024-05-20"], ["A", "z", "2024-01-15"]]) == "C"
    )
    assert latest_revision([["Indice", "Modification"], ["Z", "a"], ["AA", "b"], ["B", "c"]]) == "AA"
    assert latest_revision([["Rev.", "Date"], ["9", ""], ["10", ""]]) == "10"
    assert latest_revision([["ITEM", "QTY"], ["1", "2"]]) is None


def test_a_scanned_sheet_reads_its_own_title_block_not_the_stamp_or_a_form_bound_behind_it() -> None:
    """The block is where its fields were read: the stamp's ``ID#`` (a drawing-number label that lost to DWG. NO.)
    does not stretch it to the middle of the sheet, the site data on the same lines is no table swallowing the
    block's labels, the date keeps one hyphen, and the permit form's ``Description:`` is not the sheet's title."""
    pages = sheets.scanned_site_plan_pages()
    pages[0].tables = unruled_tables(pages[0])
    assert [t.rows for t in pages[0].tables] == [[["Lot area", "12,000"], ["Building", "2,500"], ["Parking", "14"]]]

    block, page, (_, area) = find_title_block(pages, pages[0].tables)

    assert block is not None and page == 1
    assert (block.title, block.company, block.date, block.author, block.scale, block.drawing_number) == (
        "SITE PLAN", "ACME CIVIL LLC", "4-30-13", "JDOY", "AS SHOWN", "C-1",
    )  # fmt: skip
    assert block.custom_fields["DATE ISO"] == "2013-04-30"
    assert area[0] >= 1100.0


def test_label_value_lines_from_one_edge_are_a_table_and_a_title_block_of_such_lines_stays_a_title_block() -> None:
    page = sheets.zoning_data_page()
    page.tables = label_value_tables(page)
    source = SourceInfo(filename="zoning.pdf", size=1, sha256="0" * 64)
    result = drawing_result(
        source, [page], file_format=FileFormat.PDF, version="t", warnings=[], metadata_for=lambda unit, page: {}
    )

    assert [(t.headers, t.rows) for t in result.tables] == [
        (["Building Height", "N/A"], [["Lot Area", "12,000 S.F."], ["Total Square Footage of Building", "26,663 S.F."]])
    ]
    block = result.title_block
    assert block is not None
    assert (block.author, block.date, block.scale, block.drawing_number) == ("J. DOE", "2024-03-01", "1:100", "C-101")
