"""Parts lists drawn as ACAD_TABLEs in DXF drawings become the result's BOM, whatever the header language."""

from __future__ import annotations

from pathlib import Path

from extraction_pipeline.extractors import dxf
from extraction_pipeline.extractors.schema import Bom, ExtractionResult, SourceInfo
from extraction_pipeline_tests.extractors import dxf_builders as builders

GERMAN_PARTS_LIST = [
    ["STÜCKLISTE", "", "", ""],
    ["Pos.", "Benennung", "Menge", "Werkstoff"],
    ["1", "Grundplatte", "1", "S235JR"],
    ["2", "Zylinderschraube M6x20", "4", "8.8"],
]


def run(path: Path) -> ExtractionResult:
    return dxf.extract(path, SourceInfo(filename=path.name, size=path.stat().st_size, sha256="0" * 64), {})


def test_acad_table_with_bom_headers_is_the_bom(tmp_path: Path) -> None:
    result = run(builders.build_tables_dxf(tmp_path / "tables.dxf"))

    assert result.bom == Bom(
        headers=["ITEM", "PART NO", "QTY"],
        items=[{"ITEM": "1", "PART NO": "P-1", "QTY": "2"}, {"ITEM": "2", "PART NO": "P-2", "QTY": "4"}],
        total_items=2,
    )  # the revision table (REV, DATE) counts nothing


def test_german_parts_list_table_is_the_bom(tmp_path: Path) -> None:
    doc = builders.new_drawing()
    builders.add_acad_table(doc.modelspace(), GERMAN_PARTS_LIST, insert=(10, 100))
    doc.saveas(tmp_path / "stueckliste.dxf")

    result = run(tmp_path / "stueckliste.dxf")

    assert [(t.title, t.headers) for t in result.tables] == [("STÜCKLISTE", GERMAN_PARTS_LIST[1])]
    assert result.bom == Bom(
        headers=["Pos.", "Benennung", "Menge", "Werkstoff"],
        items=[
            {"Pos.": "1", "Benennung": "Grundplatte", "Menge": "1", "Werkstoff": "S235JR"},
            {"Pos.": "2", "Benennung": "Zylinderschraube M6x20", "Menge": "4", "Werkstoff": "8.8"},
        ],
        total_items=2,
    )
