"""Bills of materials and parts lists in PDFs: headers in many languages, lists over pages, title grids apart."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from extraction_pipeline.extractors import pdf
from extraction_pipeline.extractors.pdf.bom import carry_headers_over_pages, is_bom_header
from extraction_pipeline.extractors.schema import Bom, ExtractionResult, SourceInfo, Table
from extraction_pipeline_tests.extractors.pdf_builders import (
    CATALAN_BOM_CAPTION,
    CATALAN_BOM_FIRST_PAGE_ITEMS,
    CATALAN_BOM_HEADER,
    CATALAN_BOM_ITEMS,
    SIGNATURE_TITLE_GRID,
    SPANISH_PARTS_LIST,
    SPANISH_TITLE_GRID,
    build_bom_document_pdf,
    build_parts_list_with_title_grid_pdf,
    build_table_pdf,
)


def run(path: Path) -> ExtractionResult:
    data = path.read_bytes()
    return pdf.extract(
        path, SourceInfo(filename=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest()), {}
    )


@pytest.mark.parametrize("caption_cell", [False, True], ids=["header-row", "caption-over-header-cell"])
def test_bom_document_over_two_pages_keeps_every_item_with_its_columns(tmp_path: Path, caption_cell: bool) -> None:
    result = run(build_bom_document_pdf(tmp_path / "bom.pdf", caption_cell=caption_cell))

    first, rest = CATALAN_BOM_ITEMS[:CATALAN_BOM_FIRST_PAGE_ITEMS], CATALAN_BOM_ITEMS[CATALAN_BOM_FIRST_PAGE_ITEMS:]
    assert [(t.page, t.headers, t.rows, t.num_rows, t.num_columns) for t in result.tables] == [
        (1, CATALAN_BOM_HEADER, first, 30, 5),
        (2, CATALAN_BOM_HEADER, rest, 22, 5),  # the list runs on without repeating its header
    ]
    assert result.tables[0].title == (CATALAN_BOM_CAPTION if caption_cell else None)
    assert result.bom == Bom(
        headers=CATALAN_BOM_HEADER,
        items=[dict(zip(CATALAN_BOM_HEADER, item, strict=True)) for item in CATALAN_BOM_ITEMS],
        total_items=52,
    )
    assert result.bom.items[-1] == {
        "Núm.": "52", "Referència": "R-1052", "Descripció": "Cargol M5 x 62", "Quantitat": "5", "Proveïdor": "OLFER",
    }  # fmt: skip


@pytest.mark.parametrize(
    "grid", [SPANISH_TITLE_GRID, SIGNATURE_TITLE_GRID], ids=["label-value-cells", "labels-with-blank-values"]
)
def test_parts_list_is_the_only_table_beside_a_title_block_grid(
    tmp_path: Path, grid: list[tuple[float, float, float, str]]
) -> None:
    result = run(build_parts_list_with_title_grid_pdf(tmp_path / "drawing.pdf", grid))

    assert [(t.headers, t.rows, t.num_rows, t.num_columns) for t in result.tables] == [
        (["Pos.", "Denominación", "Cantidad"], SPANISH_PARTS_LIST[1:], 3, 3)
    ]
    assert result.bom == Bom(
        headers=["Pos.", "Denominación", "Cantidad"],
        items=[
            {"Pos.": "1", "Denominación": "Cable 18 AWG negro", "Cantidad": "2"},
            {"Pos.": "2", "Denominación": "Conector MOLEX 39-01-4040", "Cantidad": "2"},
            {"Pos.": "3", "Denominación": "Tubo termorretráctil", "Cantidad": "1"},
        ],
        total_items=3,
    )


@pytest.mark.parametrize(
    "headers",
    [
        ["ITEM", "PART NO", "DESCRIPTION", "QTY"],
        ["#", "N/referencia", "S/referencia", "Descripció", "Unitats/kit", "Proveïdor"],
        ["Nº", "Descripción", "Cantidad", "Material"],
        ["Pos.", "Benennung", "Menge", "Werkstoff"],
        ["Rep.", "Désignation", "Qté", "Matière"],
        ["Pos.", "Descrizione", "Quantità"],
        ["Pozice", "Název", "Množství"],
        ["序号", "名 称", "数 量", "材料"],
        ["品番", "品名", "数量"],
    ],
)
def test_bom_headers_in_the_languages_drawings_are_made_in(headers: list[str]) -> None:
    assert is_bom_header(headers)


@pytest.mark.parametrize(
    "headers",
    [
        ["HOLE", "X", "Y", "SIZE"],
        ["REV", "DESCRIPTION", "DATE", "BY"],
        ["Cantidad", "Precio"],  # a quantity but nothing it counts
        ["Beschreibung/Menge"],  # one cell cannot be both columns
    ],
)
def test_tables_without_a_counted_part_are_no_bom(headers: list[str]) -> None:
    assert not is_bom_header(headers)


def _table(headers: list[str], page: int, top: float) -> Table:
    rows = [[str(n)] * len(headers) for n in range(3)]
    return Table(
        headers=headers, rows=rows, page=page, bbox=(40, top, 400, top + 60), num_rows=3, num_columns=len(headers)
    )


def test_only_the_top_table_of_the_next_page_with_as_many_columns_carries_a_list_on() -> None:
    parts = _table(["Pos.", "Benennung", "Menge"], page=1, top=600)
    notes = _table(["col_1", "col_2"], page=2, top=40)  # the top of page 2, but other columns
    lower = _table(["col_1", "col_2", "col_3"], page=2, top=300)  # as many columns, but not at the top
    next_page = _table(["col_1", "col_2", "col_3"], page=3, top=40)  # page 2 ends with a header-less table

    carried = carry_headers_over_pages([parts, notes, lower, next_page])

    assert [t.headers for t in carried] == [parts.headers, notes.headers, lower.headers, next_page.headers]
    assert carry_headers_over_pages([parts, lower])[1].headers == parts.headers  # alone on page 2: carried on


SITE_DATA = [
    ["Site: 1.69 ac", "Zoning: C2", "Stories: 2"],
    ["Height: 35 ft", "Stalls: 48", "Bikes: 12"],
    ["Use: Retail", "Lot: 12", "Area: 26,663 SF"],
]


def test_a_regular_grid_of_label_value_cells_stays_a_table(tmp_path: Path) -> None:
    result = run(build_table_pdf(tmp_path / "site.pdf", SITE_DATA))

    assert [(t.headers, t.rows) for t in result.tables] == [(["col_1", "col_2", "col_3"], SITE_DATA)]
