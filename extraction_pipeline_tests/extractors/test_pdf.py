"""PDF extractor on drawings built with fpdf2 (exact expected values), plus the optional real-world set."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pytest

from extraction_pipeline.errors import ConfigurationError, CorruptFileError
from extraction_pipeline.extractors import pdf
from extraction_pipeline.extractors.registry import extractor_for
from extraction_pipeline.extractors.schema import (
    Bom,
    DimensionType,
    ExtractionResult,
    FileFormat,
    SourceInfo,
    TitleBlock,
)
from extraction_pipeline_tests.extractors.pdf_builders import (
    ANSI_TEMPLATE_CELLS,
    BOM_TABLE,
    CELL_GRID_HEADER,
    DATA_TABLE_ROWS,
    DIMENSIONED_PART_TRUTH,
    FRAME_TABLE_ROWS,
    HOLE_TABLE,
    ISO_TEMPLATE_CELLS,
    LONG_PARTS_LIST,
    REVISION_TABLE,
    SCHEMATIC_PARTS,
    build_cell_grid_pdf,
    build_data_table_pdf,
    build_dimensioned_part_pdf,
    build_drawing_pdf,
    build_encrypted_pdf,
    build_grid_pdf,
    build_heavy_page_pdf,
    build_inch_drawing_pdf,
    build_label_value_grid_pdf,
    build_labels_above_grid_pdf,
    build_neighbouring_labels_pdf,
    build_notes_in_title_area_pdf,
    build_outlined_dimension_pdf,
    build_parts_list_pdf,
    build_repeated_label_pdf,
    build_rotated_copy,
    build_schematic_pdf,
    build_side_by_side_tables_pdf,
    build_table_pdf,
    build_tables_on_frame_pdf,
    build_template_title_block_pdf,
    build_text_pages_pdf,
    build_three_column_prose_pdf,
    build_title_strip_pdf,
    build_two_page_pdf,
    build_unruled_table_pdf,
    build_vector_only_pdf,
    cell_grid_rows,
)
from extraction_pipeline_tests.realworld import realworld_path

D = DimensionType


def run(path: Path, **options: object) -> ExtractionResult:
    data = path.read_bytes()
    source = SourceInfo(filename=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    return pdf.extract(path, source, options)


def expected_title_block(drawing_number: str) -> TitleBlock:
    return TitleBlock(
        drawing_number=drawing_number,
        title="MOUNTING BRACKET",
        revision="B",
        date="2024-01-15",
        author="J. SMITH",
        company="ACME ENGINEERING",
        scale="1:2",
        sheet="1 OF 2",
        material="AL 6061-T6",
        finish="ANODIZED",
        custom_fields={"ORDER REF": "PO-4471", "PROJECT": "ALPHA"},
    )


@pytest.fixture(scope="module")
def drawing(tmp_path_factory: pytest.TempPathFactory) -> ExtractionResult:
    return run(build_drawing_pdf(tmp_path_factory.mktemp("pdf") / "drawing.pdf"))


def test_module_contract() -> None:
    assert extractor_for(FileFormat.PDF) is pdf
    assert pdf.VERSION == "1.2.0"


def test_drawing_result_identity(drawing: ExtractionResult) -> None:
    assert drawing.format is FileFormat.PDF
    assert drawing.extractor_version == "1.2.0"
    assert drawing.source.filename == "drawing.pdf"
    assert drawing.warnings == []


def test_drawing_ruled_tables_with_detected_headers(drawing: ExtractionResult) -> None:
    assert [(t.headers, t.rows, t.page, t.num_rows, t.num_columns) for t in drawing.tables] == [
        (HOLE_TABLE[0], HOLE_TABLE[1:], 1, 3, 4),
        (BOM_TABLE[0], BOM_TABLE[1:], 1, 3, 4),
    ]
    assert [t.bbox for t in drawing.tables] == [(442.0, 60.0, 682.0, 132.0), (442.0, 330.0, 822.0, 402.0)]


def test_drawing_title_block_from_bordered_cells(drawing: ExtractionResult) -> None:
    assert drawing.title_block == expected_title_block("DWG-1001")
    assert drawing.metadata["title_block_page"] == 1


def test_drawing_bom(drawing: ExtractionResult) -> None:
    assert drawing.bom == Bom(
        headers=["ITEM", "PART NO", "DESCRIPTION", "QTY"],
        items=[
            {"ITEM": "1", "PART NO": "P-100", "DESCRIPTION": "BASE PLATE", "QTY": "1"},
            {"ITEM": "2", "PART NO": "P-200", "DESCRIPTION": "SHAFT", "QTY": "2"},
            {"ITEM": "3", "PART NO": "P-300", "DESCRIPTION": "BUSHING", "QTY": "4"},
        ],
        total_items=3,
    )


def test_drawing_dimensions_with_page_and_bbox(drawing: ExtractionResult) -> None:
    # bare numbers in the tables (25.0, QTY 4) and title block (1:2, 2024-01-15) are not dimensions
    got = [
        (d.label, d.value, d.unit, d.tolerance_plus, d.tolerance_minus, d.dimension_type, d.fit, d.page)
        for d in drawing.dimensions
    ]
    assert got == [
        ("Ø6.6", 6.6, "mm", None, None, D.DIAMETER, None, 1),
        ("Ø6.6", 6.6, "mm", None, None, D.DIAMETER, None, 1),
        ("Ø12.5 ±0.05", 12.5, "mm", 0.05, 0.05, D.DIAMETER, None, 1),
        ("Ø20 H7/g6", 20.0, "mm", None, None, D.DIAMETER, "H7/g6", 1),
        ("Ø9.0", 9.0, "mm", None, None, D.DIAMETER, None, 1),
        ("R5", 5.0, "mm", None, None, D.RADIUS, None, 1),
        ("45°", 45.0, "deg", None, None, D.ANGULAR, None, 1),
    ]
    callout = drawing.dimensions[2]
    assert callout.bbox is not None
    assert callout.bbox[0] == 80.0
    assert callout.bbox == pytest.approx((80.0, 112.07, 135.32, 122.07), abs=0.5)  # text at (80, baseline 120)


def test_drawing_threads_roughness_and_gdt(drawing: ExtractionResult) -> None:
    assert [(t.designation, t.standard, t.nominal_diameter, t.pitch, t.page) for t in drawing.threads] == [
        ("M8x1.25", "ISO metric", 8.0, 1.25, 1)
    ]
    assert [(s.parameter, s.value, s.unit, s.page) for s in drawing.surface_finishes] == [("Ra", 1.6, "um", 1)]
    assert [(g.characteristic, g.tolerance, g.datums, g.page) for g in drawing.gdt] == [("flatness", 0.02, ["A"], 1)]
    assert drawing.threads[0].bbox == pytest.approx((80.0, 112.07 + 50, 118.35, 122.07 + 50), abs=0.5)


def test_drawing_text_blocks_keep_cells_and_callouts_apart(drawing: ExtractionResult) -> None:
    texts = [b.text for b in drawing.text_blocks]
    for expected in ["Ø12.5 ±0.05", "Ø20 H7/g6", "FLATNESS 0.02 A", "TITLE", "MOUNTING BRACKET", "BASE PLATE"]:
        assert texts.count(expected) == 1, expected
    title_label = next(b for b in drawing.text_blocks if b.text == "TITLE")
    assert (title_label.page, title_label.font_size) == (1, 6.0)
    assert title_label.bbox == pytest.approx((445.0, 458.24, 461.34, 464.24), abs=0.5)


def test_drawing_metadata(drawing: ExtractionResult) -> None:
    meta = drawing.metadata
    assert meta["page_count"] == 1
    assert meta["pages_extracted"] == [1]
    assert meta["page_sizes"] == [{"page": 1, "width": 841.89, "height": 595.28, "rotation": 0, "text_direction": 0}]
    assert meta["has_text_layer"] is True
    assert meta["document_info"]["title"] == "Test drawing"
    assert meta["document_info"]["creator"] == "extraction_pipeline tests"
    counts = meta["objects_per_page"][0]
    # frame + part outline + 12 title cells + 32 table cells; 10 tick lines; one circle
    assert (counts["rects"], counts["lines"], counts["curves"], counts["images"]) == (46, 10, 1, 0)
    assert counts["chars"] == sum(len("".join(b.text.split())) for b in drawing.text_blocks)


def test_title_block_on_second_page(tmp_path: Path) -> None:
    result = run(build_two_page_pdf(tmp_path / "two.pdf"))
    assert result.title_block == expected_title_block("DWG-2002")
    assert result.metadata["title_block_page"] == 2
    assert {d.page for d in result.dimensions} == {1}
    assert "NOTES:\n1. BREAK ALL SHARP EDGES\n2. UNLESS OTHERWISE SPECIFIED" in [b.text for b in result.text_blocks]


def test_free_standing_title_block_grid_is_not_a_data_table(tmp_path: Path) -> None:
    result = run(build_drawing_pdf(tmp_path / "noframe.pdf", drawing_number="DWG-7", frame=False))
    assert [t.headers for t in result.tables] == [HOLE_TABLE[0], BOM_TABLE[0]]
    assert result.title_block == expected_title_block("DWG-7")


def test_unruled_table(tmp_path: Path) -> None:
    result = run(build_unruled_table_pdf(tmp_path / "unruled.pdf"))
    [table] = result.tables
    assert (table.headers, table.rows, table.num_rows, table.num_columns) == (HOLE_TABLE[0], HOLE_TABLE[1:], 3, 4)
    assert result.title_block is None


def test_table_without_header_row_gets_synthesized_headers(tmp_path: Path) -> None:
    rows = [["RED", "APPLE", "CRISP"], ["GREEN", "PEAR", "SOFT"], ["YELLOW", "LEMON", "SOUR"]]
    [table] = run(build_table_pdf(tmp_path / "plain.pdf", rows)).tables
    assert (table.headers, table.rows, table.num_rows) == (["col_1", "col_2", "col_3"], rows, 3)


def test_bold_first_row_is_a_header(tmp_path: Path) -> None:
    rows = [["COLOUR", "FRUIT", "TASTE"], ["GREEN", "PEAR", "SOFT"], ["YELLOW", "LEMON", "SOUR"]]
    [table] = run(build_table_pdf(tmp_path / "bold.pdf", rows, bold_header=True)).tables
    assert (table.headers, table.rows) == (rows[0], rows[1:])


def test_numeric_column_under_a_word_makes_a_header(tmp_path: Path) -> None:
    rows = [["PIN", "LENGTH"], ["A", "12.5"], ["B", "40"]]
    [table] = run(build_table_pdf(tmp_path / "num.pdf", rows)).tables
    assert (table.headers, table.rows) == (rows[0], rows[1:])
    assert run(build_table_pdf(tmp_path / "num.pdf", rows)).bom is None


def test_revision_table_is_a_data_table_not_a_title_block(tmp_path: Path) -> None:
    rows = [["REV", "DESCRIPTION", "DATE", "BY"], ["A", "INITIAL RELEASE", "2024-01-15", "JS"]]
    result = run(build_table_pdf(tmp_path / "revisions.pdf", rows))
    assert [(t.headers, t.rows) for t in result.tables] == [(rows[0], rows[1:])]
    assert result.title_block is None


def test_inch_note_sets_default_unit(tmp_path: Path) -> None:
    result = run(build_inch_drawing_pdf(tmp_path / "inch.pdf"))
    assert result.metadata["default_unit"] == "in"
    assert [(d.value, d.unit, d.tolerance_plus, d.dimension_type) for d in result.dimensions] == [
        (0.5, "in", 0.005, D.DIAMETER)
    ]


def test_vector_only_pdf_completes_with_a_warning(tmp_path: Path) -> None:
    result = run(build_vector_only_pdf(tmp_path / "vector.pdf", pages=3), ocr="off")
    assert result.warnings == [
        "no text layer: pages 1-3 contain only vector graphics; text, dimensions and title block cannot be "
        "read from them without OCR (EXTRACTION_OCR)"
    ]
    assert result.metadata["has_text_layer"] is False
    assert result.metadata["pages_without_text"] == [1, 2, 3]
    assert result.metadata["object_totals"]["lines"] == 600
    assert (result.text_blocks, result.tables, result.dimensions, result.title_block) == ([], [], [], None)


def test_heavy_page_text_comes_from_pdfium(tmp_path: Path) -> None:
    result = run(build_heavy_page_pdf(tmp_path / "heavy.pdf", vector_lines=3500), ocr="off")
    assert result.metadata["pages_text_from_pdfium"] == [1]
    assert result.metadata["objects_per_page"][0]["lines"] == 3500
    assert (
        "page 1 has 3500 vector paths (over 3000): its text was read with PDFium and tables were not searched on it"
        in result.warnings
    )
    [dimension] = result.dimensions
    assert (dimension.value, dimension.tolerance_plus, dimension.dimension_type, dimension.page) == (
        12.5,
        0.05,
        D.DIAMETER,
        1,
    )
    assert dimension.bbox == pytest.approx((80.0, 112.07, 135.32, 122.07), abs=2.5)  # same place pdfplumber sees
    assert [b.font_size for b in result.text_blocks] == [10.0, 10.0]
    assert result.title_block is not None
    assert result.title_block.drawing_number == "DWG-3003"


# --- /Rotate: a page is read in the direction its text runs ----------------------------------------------


def _findings(result: ExtractionResult) -> tuple[object, ...]:
    return (
        [(b.text, b.font_size) for b in result.text_blocks],
        [(t.headers, t.rows) for t in result.tables],
        [(d.label, d.value, d.unit, d.dimension_type, d.confidence) for d in result.dimensions],
        [t.designation for t in result.threads],
        [(g.characteristic, g.tolerance) for g in result.gdt],
        result.title_block,
        result.bom,
    )


@pytest.mark.parametrize(
    ("degrees", "text_direction", "to_display"),
    [
        (90, 270, lambda x, y: (595.28 - y, x)),  # turned clockwise: the text reads downwards
        (180, 180, lambda x, y: (841.89 - x, 595.28 - y)),
        (270, 90, lambda x, y: (y, 841.89 - x)),  # the text reads upwards
    ],
)
def test_rotated_copy_of_a_page_gives_the_same_findings(
    tmp_path: Path, drawing: ExtractionResult, degrees: int, text_direction: int, to_display: Callable[..., tuple]
) -> None:
    turned = run(build_rotated_copy(build_drawing_pdf(tmp_path / "d.pdf"), tmp_path / f"d{degrees}.pdf", degrees))
    assert _findings(turned) == _findings(drawing)
    assert turned.warnings == []
    [size] = turned.metadata["page_sizes"]
    assert (size["rotation"], size["text_direction"]) == (degrees, text_direction)
    for original, rotated in zip(
        [*drawing.text_blocks, *drawing.tables, *drawing.dimensions],
        [*turned.text_blocks, *turned.tables, *turned.dimensions],
        strict=True,
    ):  # the same place on the displayed (turned) page
        x0, top, x1, bottom = original.bbox
        corners = [to_display(x0, top), to_display(x1, bottom)]
        expected = (
            min(c[0] for c in corners),
            min(c[1] for c in corners),
            max(c[0] for c in corners),
            max(c[1] for c in corners),
        )
        assert rotated.bbox == pytest.approx(expected, abs=0.02)


# --- dimensions need evidence; confidence says which -------------------------------------------------------


def test_dimensions_need_evidence_and_confidence_says_which(tmp_path: Path) -> None:
    result = run(build_dimensioned_part_pdf(tmp_path / "part.pdf"))
    got = [(d.label, d.value, d.dimension_type.value, d.confidence) for d in result.dimensions]
    assert got == DIMENSIONED_PART_TRUTH  # not the count 3, the pin 7, the balloon 4 or NOTE 2
    vertical = next(b for b in result.text_blocks if b.text == "80")  # read upwards, not as "08"
    assert vertical.bbox is not None and vertical.bbox[3] - vertical.bbox[1] > vertical.bbox[2] - vertical.bbox[0]


def test_heavy_page_read_through_pdfium_gets_the_same_dimension_evidence(tmp_path: Path) -> None:
    result = run(build_dimensioned_part_pdf(tmp_path / "heavy_part.pdf", hatch_lines=3200))
    assert result.metadata["pages_text_from_pdfium"] == [1]
    got = [(d.label, d.value, d.dimension_type.value, d.confidence) for d in result.dimensions]
    assert got == DIMENSIONED_PART_TRUTH


def test_schematic_designators_pins_and_values_are_not_dimensions(tmp_path: Path) -> None:
    result = run(build_schematic_pdf(tmp_path / "schematic.pdf"))
    assert result.dimensions == []
    texts = {b.text for b in result.text_blocks}
    assert set(SCHEMATIC_PARTS) <= texts


def test_data_table_counts_with_thousands_separators_are_not_dimensions(tmp_path: Path) -> None:
    result = run(build_data_table_pdf(tmp_path / "stock.pdf"))
    assert result.dimensions == []
    [table] = result.tables
    assert (table.headers, table.rows) == (DATA_TABLE_ROWS[0], DATA_TABLE_ROWS[1:])


@pytest.mark.slow
@pytest.mark.parametrize("hatch_lines", [0, 3200])  # a light page (pdfplumber), a heavy one (PDFium)
def test_ocr_page_gets_dimension_line_evidence_from_its_vector_lines(tmp_path: Path, hatch_lines: int) -> None:
    # the text is glyph outlines: OCR reads it; the drawn dimension line (not the glyph strokes) makes 120 a dimension
    result = run(build_outlined_dimension_pdf(tmp_path / "outlined.pdf", hatch_lines=hatch_lines), ocr="auto")
    assert result.metadata["pages_text_from_ocr"] == [1]
    assert (result.metadata["objects_per_page"][0]["paths"] > 3000) == bool(hatch_lines)
    assert [(d.label, d.value, d.confidence) for d in result.dimensions] == [("120", 120.0, 0.8)]


def test_whole_number_radius_is_kept_on_a_drawing_with_lower_confidence(drawing: ExtractionResult) -> None:
    assert [(d.label, d.confidence) for d in drawing.dimensions if d.dimension_type is D.RADIUS] == [("R5", 0.7)]
    assert {d.confidence for d in drawing.dimensions if d.dimension_type is not D.RADIUS} == {0.9}


# --- title blocks: ruled label|value grids, drawing templates, labels never values ---------------------------


def test_ruled_label_value_grid_becomes_title_block_fields(tmp_path: Path) -> None:
    result = run(build_label_value_grid_pdf(tmp_path / "grid.pdf"))
    assert result.title_block == TitleBlock(
        drawing_number="BM-2040", title="GEAR HOUSING", material="42CrMo4", scale="1:5", revision="C", date="2024-03-01"
    )
    assert result.tables == []  # the grid is the title block, not a col_1/col_2 data table


def test_ruled_grid_of_labels_over_values_becomes_title_block_fields(tmp_path: Path) -> None:
    result = run(build_labels_above_grid_pdf(tmp_path / "above.pdf"))
    assert result.title_block == TitleBlock(
        drawing_number="BM-2041", revision="D", scale="2:1", material="S355", sheet="1 OF 3", date="2024-03-02"
    )
    assert result.tables == []


def test_ansi_drawing_template_title_block(tmp_path: Path) -> None:
    result = run(build_template_title_block_pdf(tmp_path / "ansi.pdf", ANSI_TEMPLATE_CELLS))
    assert result.title_block == TitleBlock(
        drawing_number="SC-7781",
        title="SHAFT COUPLING",
        revision="B",
        date="2024-02-03",  # the DRAWN row's date, under the DATE column
        author="J. DOE",  # right of DRAWN, under NAME
        scale="1:2",
        sheet="1 OF 1",
        material="AISI 304",
        finish="PASSIVATED",
        custom_fields={"NAME": "J. DOE", "CHECKED": "K. LEE", "SIZE": "A"},
    )


def test_iso_7200_drawing_template_title_block(tmp_path: Path) -> None:
    result = run(build_template_title_block_pdf(tmp_path / "iso.pdf", ISO_TEMPLATE_CELLS))
    assert result.title_block == TitleBlock(
        drawing_number="SC-7782",
        title="SHAFT COUPLING",
        revision="A",
        date="2024-02-05",
        author="J. Doe",
        company="ACME GMBH",
        scale="1:1",
        sheet="1/2",
        material="1.4301",
        custom_fields={
            "APPROVED BY": "K. Lee",
            "DOCUMENT TYPE": "DETAIL DRAWING",
            "DOCUMENT STATUS": "RELEASED",
            "SUPPLEMENTARY TITLE": "FLANGE SIDE",
        },
    )


def test_labels_printed_twice_are_labels_not_values(tmp_path: Path) -> None:
    result = run(build_repeated_label_pdf(tmp_path / "twice.pdf"))  # overprinted, and "Sheet Sheet"
    assert result.title_block == TitleBlock(drawing_number="DN-5521", sheet="2 of 4")
    assert "Document Number" in [b.text for b in result.text_blocks]


def test_a_neighbouring_label_or_a_vertical_note_is_no_value(tmp_path: Path) -> None:
    result = run(build_neighbouring_labels_pdf(tmp_path / "crowded.pdf"))
    assert result.title_block == TitleBlock(drawing_number="DN-7")


def test_sentence_pieces_in_the_title_area_are_not_custom_fields(tmp_path: Path) -> None:
    result = run(build_notes_in_title_area_pdf(tmp_path / "notes.pdf"))
    assert result.title_block == TitleBlock(drawing_number="DN-8", revision="A", custom_fields={"PROJECT": "ALPHA"})


# --- tables need table evidence ---------------------------------------------------------------------------


def test_tables_sharing_the_sheet_frame_lines_are_found_like_pdfplumber_finds_them(tmp_path: Path) -> None:
    path = build_tables_on_frame_pdf(tmp_path / "frame.pdf")
    with pdfplumber.open(path) as document:
        assert len(document.pages[0].find_tables()) == 3  # one of them is the frame with the revision table in it
    result = run(path)
    assert [(t.headers, t.rows) for t in result.tables] == [
        (REVISION_TABLE[0], REVISION_TABLE[1:]),
        (FRAME_TABLE_ROWS[0], FRAME_TABLE_ROWS[1:]),
        (BOM_TABLE[0], BOM_TABLE[1:]),
    ]


def test_three_column_prose_is_not_a_table(tmp_path: Path) -> None:
    result = run(build_three_column_prose_pdf(tmp_path / "prose.pdf"))
    assert (result.tables, result.title_block, result.dimensions) == ([], None, [])
    assert len(result.text_blocks) == 3  # one block of text per column


# --- title strips: several LABEL: value fields in one line ------------------------------------------------


def test_benchmark_title_strip_is_split_into_its_fields(tmp_path: Path) -> None:
    # benchmarks/extractor_throughput.py: one cell "DRAWING NO: BM-0000   REV: B   SCALE: 1:2" per page
    result = run(build_cell_grid_pdf(tmp_path / "bench.pdf", pages=2, header=None))
    assert result.title_block == TitleBlock(drawing_number="BM-0000", revision="B", scale="1:2")
    assert result.metadata["title_block_page"] == 1


def test_title_strip_lines_with_several_labels(tmp_path: Path) -> None:
    lines = [
        "DRAWING NO: DWG-4410   REV: C   SCALE: 1:2",
        "PROJECT: ALPHA   ORDER REF: PO-4471",  # unknown labels, split at the wide gap
        "TITLE: REV A BRACKET   DATE: 2024-01-15   SHEET 1 OF 2",  # REV without colon or gap is part of the title
        "DRAWN BY: J. SMITH   MATERIAL: AL 6061-T6   CHECKED BY: K. LEE",
    ]
    result = run(build_title_strip_pdf(tmp_path / "strip.pdf", lines))
    assert result.title_block == TitleBlock(
        drawing_number="DWG-4410",
        title="REV A BRACKET",
        revision="C",
        date="2024-01-15",
        author="J. SMITH",
        scale="1:2",
        sheet="1 OF 2",
        material="AL 6061-T6",
        custom_fields={"PROJECT": "ALPHA", "ORDER REF": "PO-4471", "CHECKED BY": "K. LEE"},
    )
    assert [d.raw_text for d in result.dimensions] == []  # 1:2, 2024-01-15 and 6061 are not dimensions


def test_title_strip_without_colons_is_split_at_wide_gaps_in_the_bottom_right(tmp_path: Path) -> None:
    line = "DRAWING NO DWG-5   REV C   SCALE 1:5   SHEET 2 OF 3"
    result = run(build_title_strip_pdf(tmp_path / "spaced.pdf", [line]))
    assert result.title_block == TitleBlock(drawing_number="DWG-5", revision="C", scale="1:5", sheet="2 OF 3")
    elsewhere = run(build_title_strip_pdf(tmp_path / "top_left.pdf", [line], origin=(60.0, 60.0)))
    assert elsewhere.title_block is None  # LABEL value without a colon only counts in the bottom-right quarter


def test_title_strip_single_spaces_and_sentences_are_not_field_breaks(tmp_path: Path) -> None:
    lines = [
        "DRAWING NO: DWG-6   REV: A   DRAWN BY: J. SMITH   DATE: 2024-01-15",
        "NOTE: BREAK EDGES.   MATERIAL TO BE CERTIFIED",  # a new sentence, not a MATERIAL field
        "PROJECT: ALPHA ORDER REF: PO-4471 X",  # an unknown label after one space: where it starts is a guess
        ("TITLE: BRACKET SHEET METAL", "Courier"),  # one monospaced space is wider than 2 Helvetica ones: no gap
    ]
    result = run(build_title_strip_pdf(tmp_path / "single.pdf", lines))
    assert result.title_block == TitleBlock(
        drawing_number="DWG-6",
        title="BRACKET SHEET METAL",
        revision="A",
        date="2024-01-15",
        author="J. SMITH",
        custom_fields={"NOTE": "BREAK EDGES. MATERIAL TO BE CERTIFIED", "PROJECT": "ALPHA ORDER REF: PO-4471 X"},
    )


def test_title_strip_on_a_heavy_page_is_split_without_gap_widths(tmp_path: Path) -> None:
    # PDFium collapses the gaps: the known labels' colons still split the run
    title = "DRAWING NO: DWG-3003   REV: B   SCALE: 1:2"
    result = run(build_heavy_page_pdf(tmp_path / "heavy.pdf", vector_lines=3500, title=title))
    assert result.metadata["pages_text_from_pdfium"] == [1]
    assert result.title_block == TitleBlock(drawing_number="DWG-3003", revision="B", scale="1:2")


def test_dense_grid_is_left_out_of_the_table_search(tmp_path: Path) -> None:
    # 3,721 crossings: pdfplumber's table search would need ~1-2 s (timed in benchmarks/speed_claims.py)
    result = run(build_grid_pdf(tmp_path / "grid.pdf", cells=60))
    assert result.warnings == [
        "page 1: connected ruling lines with 3721 crossings (a grid or hatching, over 2000) were left out of the "
        "table search; the rest of the page was searched"
    ]
    assert result.tables == []
    assert [(d.value, d.unit) for d in result.dimensions] == [(5.0, "mm")]


def test_parts_list_drawn_cell_by_cell_is_searched(tmp_path: Path) -> None:
    # 155 bordered cells: counting the raw (doubled) cell edges gave 2,196 "crossings"; the real ones are 31 x 6
    result = run(build_parts_list_pdf(tmp_path / "parts.pdf"))
    assert result.warnings == []
    [table] = result.tables
    assert (table.headers, table.rows) == (LONG_PARTS_LIST[0], LONG_PARTS_LIST[1:])
    assert result.bom is not None and result.bom.total_items == 30


def test_tables_beside_a_dense_grid_are_still_found(tmp_path: Path) -> None:
    result = run(build_parts_list_pdf(tmp_path / "parts_and_grid.pdf", grid_cells=60))
    [table] = result.tables
    assert (table.headers, table.rows) == (LONG_PARTS_LIST[0], LONG_PARTS_LIST[1:])
    assert result.warnings == [
        "page 1: connected ruling lines with 3721 crossings (a grid or hatching, over 2000) were left out of the "
        "table search; the rest of the page was searched"
    ]


def test_pages_option_selects_pages(tmp_path: Path) -> None:
    path = build_text_pages_pdf(tmp_path / "five.pdf", pages=5)
    result = run(path, pages="2,4-5")
    assert result.metadata["pages_extracted"] == [2, 4, 5]
    assert result.metadata["page_count"] == 5
    assert [(d.value, d.page) for d in result.dimensions] == [(2.0, 2), (4.0, 4), (5.0, 5)]


def test_max_pages_option_caps_and_warns(tmp_path: Path) -> None:
    result = run(build_text_pages_pdf(tmp_path / "five.pdf", pages=5), pages="2-9", max_pages=2)
    assert result.metadata["pages_extracted"] == [2, 3]
    assert result.warnings == ["max_pages=2: extracted 2-3 of 4 selected page(s)"]


@pytest.mark.parametrize(
    "options",
    [{"pages": "abc"}, {"pages": "7"}, {"pages": [0]}, {"max_pages": 0}, {"max_pages": "2"}, {"pages": 1.5}],
)
def test_bad_page_options_are_configuration_errors(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        run(build_text_pages_pdf(tmp_path / "two.pdf", pages=2), **options)


def test_truncated_pdf_is_corrupt(tmp_path: Path) -> None:
    whole = build_drawing_pdf(tmp_path / "whole.pdf").read_bytes()
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptFileError, match=r"truncated\.pdf is not a readable PDF \(damaged, truncated"):
        run(truncated)


def test_random_bytes_are_corrupt(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    with pytest.raises(CorruptFileError, match=r"junk\.pdf is not a readable PDF"):
        run(junk)


def test_password_protected_pdf_is_corrupt_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError, match=r"locked\.pdf is password-protected"):
        run(build_encrypted_pdf(tmp_path / "locked.pdf"))


# --- a table drawn cell by cell (benchmarks/extractor_throughput.py's generated PDF) ----------------------

MM = 72 / 25.4


@pytest.mark.parametrize(
    ("gutter_mm", "right_mm", "bottom_mm"),
    [
        ((5.0, 1.0), 20 + 4 * 60 + 55, 20 + 11 * 8 + 7),  # the benchmark: pdfplumber sees one grid per column
        ((0.0, 0.0), 20 + 5 * 55, 20 + 12 * 7),  # touching cells: one grid
        ((5.0, 3.0), 20 + 4 * 60 + 55, 20 + 11 * 10 + 7),  # both gutters wider than pdfplumber's snap: 60 grids
    ],
)
def test_bordered_cell_grid_is_one_table_with_its_header(
    tmp_path: Path, gutter_mm: tuple[float, float], right_mm: float, bottom_mm: float
) -> None:
    result = run(build_cell_grid_pdf(tmp_path / "grid.pdf", gutter_mm=gutter_mm))
    [table] = result.tables
    assert table.headers == CELL_GRID_HEADER == ["HOLE", "X", "Y", "SIZE", "DEPTH"]
    assert table.rows == cell_grid_rows(0)[1:]
    assert table.rows[0] == [f"P0-1-{column} 25.4 +/-0.1" for column in range(5)]
    assert table.rows[-1] == [f"P0-11-{column} 25.4 +/-0.1" for column in range(5)]
    assert (table.page, table.num_rows, table.num_columns) == (1, 11, 5)
    assert table.bbox == pytest.approx((20 * MM, 20 * MM, right_mm * MM, bottom_mm * MM), abs=0.5)
    assert result.warnings == []


def test_benchmark_grid_without_a_header_row_gets_synthesized_headers(tmp_path: Path) -> None:
    [table] = run(build_cell_grid_pdf(tmp_path / "generated-1.pdf", header=None)).tables
    assert (table.headers, table.rows) == ([f"col_{n}" for n in range(1, 6)], cell_grid_rows(0, header=None))


def test_cell_grid_on_every_page_gives_one_table_per_page(tmp_path: Path) -> None:
    result = run(build_cell_grid_pdf(tmp_path / "grid4.pdf", pages=4))
    assert [(t.page, t.headers, t.rows) for t in result.tables] == [
        (page + 1, CELL_GRID_HEADER, cell_grid_rows(page)[1:]) for page in range(4)
    ]


BOM_CONTINUED = [BOM_TABLE[0], ["4", "P-400", "WASHER", "8"], ["5", "P-500", "NUT", "8"], ["6", "P-600", "BOLT", "8"]]


@pytest.mark.parametrize(
    ("left", "right", "gap"),
    [
        (BOM_TABLE, BOM_CONTINUED, 10.0),  # a parts list carried on in a second block: the header repeats
        (HOLE_TABLE, BOM_TABLE, 40.0),  # a gutter wider than a row: two tables
    ],
)
def test_neighbouring_tables_that_are_not_one_grid_stay_apart(
    tmp_path: Path, left: list[list[str]], right: list[list[str]], gap: float
) -> None:
    result = run(build_side_by_side_tables_pdf(tmp_path / "two.pdf", left, right, gap=gap))
    assert [(t.headers, t.rows) for t in result.tables] == [(left[0], left[1:]), (right[0], right[1:])]


# --- real drawings from PyBase's store (optional) -------------------------------------------------------


@pytest.mark.realworld
@pytest.mark.parametrize("name", [f"sample_{n:02d}.pdf" for n in range(2, 10)])
def test_realworld_pdf_says_what_it_could_not_read(name: str) -> None:
    # how fast: benchmarks/speed_claims.py; the OCR of these pages: test_ocr.py
    result = run(realworld_path("pybase", "pdf", name), ocr="off")
    if name == "sample_09.pdf":  # large AutoCAD plot: a thin text layer over ~16,000 vector paths
        assert result.metadata["has_text_layer"] is True
        assert any(w.startswith("thin text layer: page 1") for w in result.warnings)
        assert "(VERIFY)" in [b.text for b in result.text_blocks]
    else:  # DataCAD vector plots and one raster scan
        assert result.metadata["has_text_layer"] is False
        assert result.warnings[0].startswith("no text layer: page 1 contains only")
        assert result.text_blocks == []
