"""End to end: upload → sensor tick → run per file → row in extraction_jobs (moto server, SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from extraction_pipeline.defs.extraction.assets import ASSET_NAME
from extraction_pipeline.defs.extraction.partitions import object_for_partition, partition_key_for
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.extractors.pdf_builders import build_drawing_pdf, build_vector_only_pdf
from extraction_pipeline_tests.harness import Pipeline


def upload(s3, bucket: str, key: str, path: Path) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def test_uploads_end_as_completed_rows_with_real_values_and_a_corrupt_file_fails_alone(
    pipeline: Pipeline,
    s3,
    bucket: str,
    store,
    tmp_path: Path,
) -> None:
    upload(s3, bucket, "drawings/bracket.dxf", build_drawing_dxf(tmp_path / "a.dxf", drawing_number="DWG-7001"))
    upload(s3, bucket, "drawings/flange sheet.pdf", build_drawing_pdf(tmp_path / "b.pdf", drawing_number="DWG-7002"))
    s3.put_object(Bucket=bucket, Key="drawings/broken.dxf", Body=b"0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC10")

    tick = pipeline.tick()
    results = {object_for_partition(r.partition_key).key: run for r, run in
               zip(tick.run_requests, pipeline.run_requests(tick.run_requests), strict=True)}  # fmt: skip

    assert results["drawings/bracket.dxf"].success
    assert results["drawings/flange sheet.pdf"].success
    assert not results["drawings/broken.dxf"].success

    dxf_row = store.get(f"s3://{bucket}/drawings/bracket.dxf")
    assert dxf_row.status is JobStatus.COMPLETED and dxf_row.format == "dxf"
    assert dxf_row.result["title_block"]["drawing_number"] == "DWG-7001"
    assert any(d["value"] == pytest.approx(100.0) and d["unit"] == "mm" for d in dxf_row.result["dimensions"])
    assert dxf_row.extractor_version.startswith("dxf/") and dxf_row.duration_ms >= 0
    assert dxf_row.dagster_run_id == results["drawings/bracket.dxf"].run_id
    assert dxf_row.completed_at and dxf_row.started_at and dxf_row.error_message is None

    pdf_row = store.get(f"s3://{bucket}/drawings/flange sheet.pdf")
    assert pdf_row.status is JobStatus.COMPLETED and pdf_row.format == "pdf"
    assert pdf_row.result["title_block"]["drawing_number"] == "DWG-7002"
    assert pdf_row.result["source"]["filename"] == "flange sheet.pdf"

    bad_row = store.get(f"s3://{bucket}/drawings/broken.dxf")
    assert bad_row.status is JobStatus.FAILED
    assert bad_row.error_kind.value == "permanent"
    assert "broken.dxf" in bad_row.error_message
    assert bad_row.retry_count == 0  # permanent: not retried


def test_materializations_carry_operator_metadata(pipeline: Pipeline, s3, bucket: str, tmp_path: Path) -> None:
    upload(s3, bucket, "m.dxf", build_drawing_dxf(tmp_path / "m.dxf", drawing_number="DWG-9"))
    [request] = pipeline.tick().run_requests

    result = pipeline.run(request.partition_key, dict(request.tags))

    [materialization] = result.asset_materializations_for_node(ASSET_NAME)
    metadata = materialization.metadata
    assert materialization.partition == request.partition_key
    assert metadata["format"].value == "dxf"
    assert metadata["file_url"].value == f"s3://{bucket}/m.dxf"
    assert metadata["dimensions"].value >= 1 and metadata["layers"].value >= 1
    title = {r.data["field"]: r.data["value"] for r in metadata["title_block"].value.records}
    assert title["drawing_number"] == "DWG-9"
    # the values themselves, not only their count: the bracket's 100 mm dimension is a row of the table
    values = [r.data["value"] for r in metadata["dimension_values"].value.records]
    assert len(values) == metadata["dimensions"].value and any(v.startswith("100") for v in values), values


def test_reupload_with_new_content_re_extracts(pipeline: Pipeline, s3, bucket: str, store, tmp_path: Path) -> None:
    upload(s3, bucket, "rev.dxf", build_drawing_dxf(tmp_path / "1.dxf", drawing_number="REV-A"))
    for request in pipeline.tick().run_requests:
        pipeline.run(request.partition_key, dict(request.tags))
    assert store.get(f"s3://{bucket}/rev.dxf").result["title_block"]["drawing_number"] == "REV-A"

    upload(s3, bucket, "rev.dxf", build_drawing_dxf(tmp_path / "2.dxf", drawing_number="REV-B"))
    [request] = pipeline.tick().run_requests
    assert store.get(f"s3://{bucket}/rev.dxf").status is JobStatus.PENDING
    assert pipeline.run(request.partition_key, dict(request.tags)).success

    row = store.get(f"s3://{bucket}/rev.dxf")
    assert row.status is JobStatus.COMPLETED
    assert row.result["title_block"]["drawing_number"] == "REV-B"
    assert row.etag == s3.head_object(Bucket=bucket, Key="rev.dxf")["ETag"].strip('"')


def test_partition_added_by_hand_in_the_ui_gets_a_row_and_extracts(
    pipeline: Pipeline,
    s3,
    bucket: str,
    store,
    tmp_path: Path,
) -> None:
    upload(s3, bucket, "manual.dxf", build_drawing_dxf(tmp_path / "m.dxf"))
    key = partition_key_for(ObjectRef(bucket, "manual.dxf"))
    pipeline.instance.add_dynamic_partitions("extraction_files", [key])

    assert pipeline.run(key).success

    assert store.get(f"s3://{bucket}/manual.dxf").status is JobStatus.COMPLETED


def test_object_deleted_before_its_run_fails_permanently(pipeline: Pipeline, s3, bucket: str, store) -> None:
    s3.put_object(Bucket=bucket, Key="gone.pdf", Body=b"%PDF-1.4")
    [request] = pipeline.tick().run_requests
    s3.delete_object(Bucket=bucket, Key="gone.pdf")

    assert not pipeline.run(request.partition_key, dict(request.tags)).success

    row = store.get(f"s3://{bucket}/gone.pdf")
    assert row.status is JobStatus.FAILED and row.error_kind.value == "permanent"
    assert "does not exist" in row.error_message


def test_asset_checks_validate_the_schema_and_flag_a_drawing_without_text_layer(
    pipeline: Pipeline, s3, bucket: str, store, tmp_path: Path
) -> None:
    upload(s3, bucket, "plot.pdf", build_vector_only_pdf(tmp_path / "plot.pdf"))
    upload(s3, bucket, "part.dxf", build_drawing_dxf(tmp_path / "part.dxf"))
    tick = pipeline.tick()
    runs = {object_for_partition(r.partition_key).key: pipeline.run(r.partition_key, dict(r.tags))
            for r in tick.run_requests}  # fmt: skip

    plot_checks = {e.check_name: e for e in runs["plot.pdf"].get_asset_check_evaluations()}
    assert plot_checks["result_matches_schema"].passed
    # neither a text layer nor OCR gave any text: a warning on the file's partition, saying why
    assert not plot_checks["drawing_text_was_read"].passed
    assert plot_checks["drawing_text_was_read"].severity.value == "WARN"
    assert "no text read: no text layer" in plot_checks["drawing_text_was_read"].description
    assert plot_checks["drawing_text_was_read"].metadata["text_from"].value == "nothing"
    part_checks = {e.check_name: e for e in runs["part.dxf"].get_asset_check_evaluations()}
    assert part_checks.keys() == {"result_matches_schema"}  # the text check has nothing to say about a DXF
    assert part_checks["result_matches_schema"].passed
    # the warning does not fail the file: it completes and says why it is nearly empty
    row = store.get(f"s3://{bucket}/plot.pdf")
    assert row.status is JobStatus.COMPLETED
    assert any("no text layer" in w for w in row.result["warnings"])


def test_downstream_assets_read_the_result_back_from_the_row(pipeline: Pipeline, s3, bucket, tmp_path: Path) -> None:
    """load_input: a downstream asset (e.g. a PyBase field mapper) gets the stored result, not a re-extraction."""
    from dagster import asset, materialize

    from extraction_pipeline.defs.extraction.assets import file_extraction
    from extraction_pipeline.defs.extraction.partitions import extraction_partitions

    @asset(partitions_def=extraction_partitions)
    def drawing_number(file_extraction: dict) -> str:
        return file_extraction["title_block"]["drawing_number"]

    upload(s3, bucket, "down.dxf", build_drawing_dxf(tmp_path / "d.dxf", drawing_number="DOWN-1"))
    [request] = pipeline.tick().run_requests

    result = materialize([file_extraction, drawing_number], partition_key=request.partition_key,
                         resources=pipeline.resources, instance=pipeline.instance)  # fmt: skip

    assert result.success and result.output_for_node("drawing_number") == "DOWN-1"


def test_backfill_batch_gives_each_file_its_own_outcome(pipeline: Pipeline, s3, bucket, store, tmp_path: Path) -> None:
    """A backfill run carries several partitions (BackfillPolicy.multi_run); one bad file does not sink the rest."""
    from dagster import AssetKey, DagsterEventType, materialize

    from extraction_pipeline.defs.extraction.assets import file_extraction

    upload(s3, bucket, "bulk/a.dxf", build_drawing_dxf(tmp_path / "a.dxf", drawing_number="BULK-A"))
    s3.put_object(Bucket=bucket, Key="bulk/b.dxf", Body=b"not a drawing at all")
    upload(s3, bucket, "bulk/c.pdf", build_drawing_pdf(tmp_path / "c.pdf", drawing_number="BULK-C"))
    pipeline.tick()  # registers the partitions and pending rows; a backfill runs them instead of per-file runs
    keys = pipeline.instance.get_dynamic_partitions("extraction_files")

    result = materialize(
        [file_extraction],
        resources=pipeline.resources,
        instance=pipeline.instance,
        tags={"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]},
        raise_on_error=False,
    )

    assert not result.success  # the run says a file failed ...
    [failure] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert "1 of 3 files failed" in failure.event_specific_data.error.message
    good = {partition_key_for(ObjectRef(bucket, k)) for k in ("bulk/a.dxf", "bulk/c.pdf")}
    assert pipeline.instance.get_materialized_partitions(AssetKey(ASSET_NAME)) == good  # ... the others are done
    assert store.get(f"s3://{bucket}/bulk/a.dxf").result["title_block"]["drawing_number"] == "BULK-A"
    assert store.get(f"s3://{bucket}/bulk/c.pdf").result["title_block"]["drawing_number"] == "BULK-C"
    bad = store.get(f"s3://{bucket}/bulk/b.dxf")
    assert bad.status is JobStatus.FAILED and bad.error_kind.value == "permanent" and "b.dxf" in bad.error_message
    assert {r.dagster_run_id for r in store.list(limit=10)} == {result.run_id}
    # one verdict per extracted file and check, each on the file's own partition (none for the failed file)
    verdicts = sorted((e.check_name, e.partition, e.passed) for e in result.get_asset_check_evaluations())
    a, c = (partition_key_for(ObjectRef(bucket, k)) for k in ("bulk/a.dxf", "bulk/c.pdf"))
    assert verdicts == sorted(
        [("result_matches_schema", a, True), ("result_matches_schema", c, True), ("drawing_text_was_read", c, True)]
    )
