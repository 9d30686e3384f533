"""One truthful state: what a file's row, its Dagster run and its partition say agree, and so do its check verdicts.

Runs go through the code location's own asset on a real instance, and the partition's status is read with
Dagster's own status cache (what the UI's partition bar shows). The live-stack side — `jobs cancel` of a queued,
starting or started run through the webserver — is in ``test_operations``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dagster import AssetKey, DagsterRunStatus
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

from extraction_pipeline.defs.extraction.partitions import extraction_partitions, partition_key_for
from extraction_pipeline.names import (
    ASSET_NAME,
    RETRY_REASON,
    TAG_REASON,
)
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.harness import Pipeline

ASSET = AssetKey(ASSET_NAME)


def partition_status(pipeline: Pipeline, partition_key: str) -> set[str]:
    """materialized / failed / in progress, as Dagster's status cache (the UI's partition bar) has it."""
    cache = get_and_update_asset_status_cache_value(pipeline.instance, ASSET, extraction_partitions)
    if cache is None:
        return set()
    subsets = {
        "materialized": cache.deserialize_materialized_partition_subsets(extraction_partitions),
        "failed": cache.deserialize_failed_partition_subsets(extraction_partitions),
        "in progress": cache.deserialize_in_progress_partition_subsets(extraction_partitions),
    }
    return {name for name, subset in subsets.items() if partition_key in subset.get_partition_keys()}


def _register_one(pipeline: Pipeline, s3: Any, bucket: str, key: str, body: bytes) -> tuple[ObjectRef, dict[str, str]]:
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    [request] = pipeline.tick().run_requests
    return ObjectRef(bucket, key), dict(request.tags)


def test_a_run_that_finds_its_job_cancelled_ends_cancelled_without_extracting(
    pipeline: Pipeline, s3: Any, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    """The sensor's run was queued when the operator cancelled the job: it starts, extracts nothing, fails nothing."""
    ref, tags = _register_one(pipeline, s3, bucket, "c/part.dxf", build_drawing_dxf(tmp_path / "p.dxf").read_bytes())
    key = partition_key_for(ref)
    assert store.cancel_if_active(ref) is not None

    result = pipeline.run(key, tags)

    assert pipeline.instance.get_run_by_id(result.run_id).status is DagsterRunStatus.CANCELED
    assert result.get_asset_materialization_events() == []
    row = store.get(ref.file_url)
    assert row.status is JobStatus.CANCELLED and row.dagster_run_id is None  # never marked processing
    assert partition_status(pipeline, key) == set()  # neither failed nor in progress: never materialized
    [observation] = [r.asset_observation for r in pipeline.instance.fetch_observations(ASSET, limit=5).records]
    assert observation.partition == key
    assert observation.description == f"cancelled: run {result.run_id} found its job cancelled and did not extract"
    assert store.cancel_if_active(ref) is None  # a finished (cancelled) row is not cancelled twice


def test_a_materialized_file_whose_rerun_is_cancelled_stays_materialized_and_not_failed(
    pipeline: Pipeline, s3: Any, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    ref, tags = _register_one(pipeline, s3, bucket, "m/part.dxf", build_drawing_dxf(tmp_path / "p.dxf").read_bytes())
    key = partition_key_for(ref)
    assert pipeline.run(key, tags).success
    extracted = store.get(ref.file_url).result
    store.reset_to_pending(store.get(ref.file_url), run_id="rerun", etag=None, file_size=None)
    assert store.cancel_if_active(ref) is not None

    rerun = pipeline.run(key, {TAG_REASON: "re-upload"})

    assert pipeline.instance.get_run_by_id(rerun.run_id).status is DagsterRunStatus.CANCELED
    assert partition_status(pipeline, key) == {"materialized"}  # green, never red
    row = store.get(ref.file_url)
    assert row.status is JobStatus.CANCELLED and row.result == extracted


def test_an_operator_retry_launched_after_the_cancel_extracts(
    pipeline: Pipeline, s3: Any, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    """A cancel stops the runs created before it; `jobs retry` afterwards is a new request and extracts."""
    ref, _tags = _register_one(pipeline, s3, bucket, "r/part.dxf", build_drawing_dxf(tmp_path / "p.dxf").read_bytes())
    assert store.cancel_if_active(ref) is not None

    result = pipeline.run(partition_key_for(ref), {TAG_REASON: RETRY_REASON})

    assert result.success
    assert store.get(ref.file_url).status is JobStatus.COMPLETED
    assert partition_status(pipeline, partition_key_for(ref)) == {"materialized"}
