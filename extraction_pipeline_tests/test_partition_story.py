"""What the Dagster UI shows per file: the named job, the row link, per-partition checks, why a file failed.

Runs go through the code location's own ``extract_files`` job on a real instance (SQLite storage); the facts
are read back from the instance's event log, where the webserver reads them.
"""

from __future__ import annotations

from dagster import (
    AssetCheckKey,
    AssetKey,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
)
from dagster._core.event_api import PartitionKeyFilter

from extraction_pipeline.definitions import build_resources
from extraction_pipeline.defs.extraction.assets import file_extraction
from extraction_pipeline.defs.extraction.checks import DRAWING_TEXT_WAS_READ, RESULT_MATCHES_SCHEMA
from extraction_pipeline.defs.extraction.jobs import extract_files
from extraction_pipeline.defs.extraction.partitions import partition_key_for
from extraction_pipeline.names import ASSET_NAME, JOB_NAME
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.extractors.pdf_builders import build_drawing_pdf
from extraction_pipeline_tests.harness import Pipeline

ASSET = AssetKey(ASSET_NAME)


def run_job(instance: DagsterInstance, partition_key: str) -> ExecuteInProcessResult:
    """One run of the named job, as the sensor, `jobs retry` and backfills launch it."""
    defs = Definitions(assets=[file_extraction], jobs=[extract_files], resources=build_resources())
    return defs.resolve_job_def(JOB_NAME).execute_in_process(
        partition_key=partition_key, instance=instance, raise_on_error=False
    )


def _register(pipeline: Pipeline, s3, bucket: str, files: dict[str, bytes]) -> dict[str, str]:
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    added = [key for tick in pipeline.ticks_until_idle() for key in tick.added_partitions]
    keys = {key: partition_key_for(ObjectRef(bucket, key)) for key in files}
    assert sorted(added) == sorted(keys.values())
    return keys


def _checks_by_partition(result: ExecuteInProcessResult) -> list[tuple[str, str | None, bool]]:
    return sorted((e.check_name, e.partition, e.passed) for e in result.get_asset_check_evaluations())


def test_runs_belong_to_extract_files_and_materializations_name_their_row(
    pipeline: Pipeline, s3, bucket: str, store: JobStore, tmp_path
) -> None:
    keys = _register(pipeline, s3, bucket, {"in/part.dxf": build_drawing_dxf(tmp_path / "p.dxf").read_bytes()})

    result = run_job(pipeline.instance, keys["in/part.dxf"])

    assert result.success and result.dagster_run.job_name == JOB_NAME
    row = store.get(f"s3://{bucket}/in/part.dxf")
    assert row.status is JobStatus.COMPLETED
    materialization = pipeline.instance.fetch_materializations(ASSET, limit=1).records[0].asset_materialization
    assert materialization.partition == keys["in/part.dxf"]
    assert materialization.metadata["job_id"].value == row.id
    assert materialization.metadata["jobs_show"].value == f"extraction-pipeline jobs show {row.id}"


def test_checks_are_recorded_on_each_files_partition_and_the_pdf_check_only_for_pdfs(
    pipeline: Pipeline, s3, bucket: str, tmp_path
) -> None:
    keys = _register(pipeline, s3, bucket, {
        "a/drawing.pdf": build_drawing_pdf(tmp_path / "d.pdf").read_bytes(),
        "a/part.dxf": build_drawing_dxf(tmp_path / "p.dxf").read_bytes(),
    })  # fmt: skip
    pdf, dxf = keys["a/drawing.pdf"], keys["a/part.dxf"]

    pdf_run, dxf_run = run_job(pipeline.instance, pdf), run_job(pipeline.instance, dxf)

    assert _checks_by_partition(pdf_run) == [(DRAWING_TEXT_WAS_READ, pdf, True), (RESULT_MATCHES_SCHEMA, pdf, True)]
    assert _checks_by_partition(dxf_run) == [(RESULT_MATCHES_SCHEMA, dxf, True)]
    # The instance keeps one latest result per check and partition: the DXF run did not overwrite the PDF's.
    storage = pipeline.instance.event_log_storage
    schema_check = AssetCheckKey(ASSET, RESULT_MATCHES_SCHEMA)
    by_partition = {
        partition: storage.get_asset_check_execution_history(
            schema_check, limit=5, partition_filter=PartitionKeyFilter(key=partition)
        )
        for partition in (pdf, dxf)
    }
    assert {p: [e.run_id for e in history] for p, history in by_partition.items()} == {
        pdf: [pdf_run.run_id],
        dxf: [dxf_run.run_id],
    }


def test_a_failed_file_says_why_on_its_partition(pipeline: Pipeline, s3, bucket: str, store: JobStore) -> None:
    keys = _register(pipeline, s3, bucket, {"bad/scan.pdf": b"not a pdf"})

    result = run_job(pipeline.instance, keys["bad/scan.pdf"])

    assert not result.success
    row = store.get(f"s3://{bucket}/bad/scan.pdf")
    assert row.status is JobStatus.FAILED
    observation = pipeline.instance.fetch_observations(ASSET, limit=1).records[0].asset_observation
    assert observation.partition == keys["bad/scan.pdf"]
    metadata = {name: value.value for name, value in observation.metadata.items()}
    assert metadata == {
        "status": "failed",
        "error_kind": "permanent",
        "error_type": "CorruptFileError",
        "error_message": row.error_message,
        "attempts": 1,
        "job_id": row.id,
        "jobs_show": f"extraction-pipeline jobs show {row.id}",
    }
    assert row.error_message.startswith("scan.pdf is not a valid PDF file")
    assert observation.description == f"failed (permanent, CorruptFileError): {row.error_message}"


def test_executing_only_a_check_re_checks_the_stored_result_without_extracting(
    pipeline: Pipeline, s3, bucket: str, store: JobStore, tmp_path
) -> None:
    keys = _register(pipeline, s3, bucket, {"c/part.dxf": build_drawing_dxf(tmp_path / "p.dxf").read_bytes()})
    assert run_job(pipeline.instance, keys["c/part.dxf"]).success
    completed = store.get(f"s3://{bucket}/c/part.dxf")
    defs = Definitions(assets=[file_extraction], jobs=[extract_files], resources=build_resources())
    # What the UI's "Execute" on one check of one partition runs: the job subset to that check alone.
    check_only = defs.resolve_job_def(JOB_NAME).get_subset(
        asset_selection=set(), asset_check_selection={AssetCheckKey(ASSET, RESULT_MATCHES_SCHEMA)}
    )

    result = check_only.execute_in_process(
        partition_key=keys["c/part.dxf"], instance=pipeline.instance, raise_on_error=False
    )

    assert result.success
    assert _checks_by_partition(result) == [(RESULT_MATCHES_SCHEMA, keys["c/part.dxf"], True)]
    assert result.get_asset_materialization_events() == []
    assert store.get(completed.file_url).updated_at == completed.updated_at  # the row was not touched
