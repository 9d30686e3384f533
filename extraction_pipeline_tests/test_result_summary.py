"""Results a person can read: `jobs show`'s summary, `--json` in full, the dimension table of the materialization."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dagster import TableMetadataValue

from extraction_pipeline.defs.extraction.partitions import partition_key_for
from extraction_pipeline.extractors.schema import (
    Bom,
    Dimension,
    DimensionType,
    ExtractionResult,
    FileFormat,
    OcrInfo,
    OcrPage,
    SourceInfo,
    Table,
    TextBlock,
    TitleBlock,
)
from extraction_pipeline.objects import ObjectRef, ObjectVersion, RecordLink
from extraction_pipeline.result_summary import (
    SHOWN_DIMENSIONS,
    TABLE_DIMENSIONS,
    dimension_table_metadata,
    dimension_text,
    summary_lines,
)
from extraction_pipeline.store import JobStore, NewObject
from extraction_pipeline.store.models import utcnow
from extraction_pipeline_tests.rows import complete_row
from extraction_pipeline_tests.test_cli import run_cli


def drawing_result(dimensions: int = 3) -> dict[str, Any]:
    extra = [Dimension(value=float(n), page=2) for n in range(dimensions - 3)]
    return ExtractionResult(
        format=FileFormat.PDF,
        extractor_version="pdf/test",
        source=SourceInfo(filename="bracket.pdf", size=10, sha256="0" * 64),
        title_block=TitleBlock(
            drawing_number="DWG-4711", title="Bracket", revision="C", material="S235JR", custom_fields={"Checked": "MK"}
        ),
        dimensions=[
            Dimension(
                value=12.0,
                tolerance_plus=0.1,
                tolerance_minus=0.1,
                dimension_type=DimensionType.DIAMETER,
                label="Ø12±0.1",
                page=1,
            ),
            Dimension(value=40.0, tolerance_plus=0.2, tolerance_minus=0.05, page=1),
            Dimension(value=8.0, fit="H7", dimension_type=DimensionType.RADIUS, layer="DIMS"),
            *extra,
        ],
        tables=[Table(headers=["POS", "NAME", "QTY"], rows=[["1", "plate", "2"], ["2", "bolt", "4"]], page=1)],
        bom=Bom(headers=["POS", "NAME", "QTY"], items=[{"POS": "1"}, {"POS": "2"}], total_items=2),
        text_blocks=[TextBlock(text="x" * 5000, page=1)],  # a long result: nothing may cut it
        ocr=OcrInfo(
            pages=[2],
            engine="rapidocr",
            dpi=300,
            mean_confidence=0.91,
            lines=40,
            page_details=[OcrPage(page=2, dpi=300, lines=40, seconds=3.0, complete=False)],
        ),
        warnings=["page 2: no text layer, read by OCR"],
    ).to_json_dict()


def test_dimensions_read_as_written_on_a_drawing() -> None:
    dims = drawing_result()["dimensions"]
    assert [dimension_text(d) for d in dims] == ["Ø12 ±0.1 mm", "40 +0.2/-0.05 mm", "R8 H7 mm"]


def test_summary_shows_title_block_dimensions_tables_ocr_and_warnings() -> None:
    text = "\n".join(summary_lines(drawing_result(dimensions=SHOWN_DIMENSIONS + 5)))

    for expected in ("drawing_number  DWG-4711", "material        S235JR", "Checked         MK",
                     f"dimensions ({SHOWN_DIMENSIONS + 5}):", "Ø12 ±0.1 mm", "as written: 'Ø12±0.1'", "R8 H7 mm",
                     "… and 5 more dimensions (--json shows all)", "table 1: 2 rows × 3 columns (page 1)",
                     "BOM: 2 items", "pages 2 read by rapidocr at 300 dpi, 40 lines, mean confidence 0.91",
                     "pages read only in part (time ran out): 2", "- page 2: no text layer, read by OCR"):  # fmt: skip
        assert expected in text, expected
    assert "x" * 100 not in text  # the text blocks are counted, not dumped


def test_summary_of_an_old_or_partial_result_does_not_fail() -> None:
    lines = summary_lines({"format": "dxf", "dimensions": [{"value": 3}], "tables": [{"rows": [["a"]]}]})
    assert "  3" in "\n".join(lines) and any("1 rows × 1 columns" in line for line in lines)
    assert dimension_table_metadata({"format": "dxf"}) == {}


def test_materialization_metadata_shows_dimension_values_as_a_table() -> None:
    metadata = dimension_table_metadata(drawing_result(dimensions=TABLE_DIMENSIONS + 10))

    table = metadata["dimension_values"]
    assert isinstance(table, TableMetadataValue) and len(table.records) == TABLE_DIMENSIONS
    assert [c.name for c in table.schema.columns] == ["value", "tolerance", "type", "label", "where"]
    assert table.records[0].data == {"value": "Ø12 ±0.1 mm", "tolerance": "±0.1", "type": "diameter",
                                     "label": "Ø12±0.1", "where": "page 1"}  # fmt: skip


def test_jobs_show_prints_the_summary_and_json_the_whole_result(tmp_path: Path, store: JobStore) -> None:
    ref = ObjectRef("bkt", "dwg/bracket.pdf")
    version = ObjectVersion(ref, "e1", 10, utcnow(), RecordLink(), {})
    store.upsert_pending([NewObject(version, partition_key_for(ref), "pdf")], max_retries=3)
    result = drawing_result()
    complete_row(store, ref, result=result, file_format="pdf", extractor_version="pdf/test", duration_ms=5)
    env = {"EXTRACTION_DATABASE_URL": store.database_url}

    shown = run_cli("jobs", "show", ref.file_url, cwd=tmp_path, env=env)
    as_json = run_cli("jobs", "show", ref.file_url, "--json", cwd=tmp_path, env=env)

    assert shown.code == 0, shown.err
    assert "DWG-4711" in shown.out and "Ø12 ±0.1 mm" in shown.out and "BOM: 2 items" in shown.out
    assert f"jobs show {store.get(ref.file_url).id} --json" in shown.out
    assert json.loads(as_json.out)["result"] == result  # whole, not cut
