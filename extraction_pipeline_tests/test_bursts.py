"""Bursts through the sensor: many uploads at once become runs of many files; a lone upload keeps its own run."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetKey, DagsterEventType, RunRequest

from extraction_pipeline import settings
from extraction_pipeline.defs.detection.registration import TAG_REASON, balanced_chunks
from extraction_pipeline.defs.extraction.assets import ASSET_NAME
from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME, partition_key_for
from extraction_pipeline.names import MAX_RUNTIME_TAG
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.harness import Pipeline

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@pytest.fixture
def burst_env(monkeypatch) -> None:
    # the README's settings, in the form it gives them: threshold 3, runs of up to 4 files
    monkeypatch.setenv("EXTRACTION_SENSOR_BATCH_THRESHOLD", "3")
    monkeypatch.setenv("EXTRACTION_BACKFILL_BATCH_SIZE", "4")


def _drawing(tmp_path: Path, number: str) -> bytes:
    return build_drawing_dxf(tmp_path / f"{number}.dxf", drawing_number=number).read_bytes()


def _range_keys(pipeline: Pipeline, request: RunRequest) -> list[str]:
    keys = pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME)
    return keys[keys.index(request.tags[RANGE_START]) : keys.index(request.tags[RANGE_END]) + 1]


def _run(pipeline: Pipeline, request: RunRequest):
    return pipeline.run(request.partition_key, dict(request.tags))


def test_a_single_upload_keeps_its_own_run(burst_env, pipeline: Pipeline, s3, bucket, tmp_path: Path) -> None:
    s3.put_object(Bucket=bucket, Key="one.dxf", Body=_drawing(tmp_path, "ONE-1"))

    [request] = pipeline.tick().run_requests

    assert request.partition_key == partition_key_for(ObjectRef(bucket, "one.dxf"))
    assert RANGE_START not in request.tags


def test_up_to_the_threshold_each_file_gets_its_own_run(burst_env, pipeline: Pipeline, s3, bucket, tmp_path) -> None:
    for index in range(3):
        s3.put_object(Bucket=bucket, Key=f"few/{index}.dxf", Body=_drawing(tmp_path, f"FEW-{index}"))

    requests = pipeline.tick().run_requests

    assert len(requests) == 3 and all(r.partition_key and RANGE_START not in r.tags for r in requests)


def test_a_burst_becomes_runs_of_contiguous_ranges_covering_exactly_the_new_files(
    burst_env, pipeline: Pipeline, s3, bucket, tmp_path: Path
) -> None:
    names = [f"burst/{index:02d}.dxf" for index in range(9)]
    for name in names:
        s3.put_object(Bucket=bucket, Key=name, Body=_drawing(tmp_path, name[6:8]))

    tick = pipeline.tick()

    # 9 files, runs of up to 4: as few runs as that allows (three), of even sizes, not 4 + 4 + 1
    ranged = [r for r in tick.run_requests if RANGE_START in r.tags]
    assert [len(_range_keys(pipeline, r)) for r in ranged] == [3, 3, 3] and len(tick.run_requests) == 3
    covered = [key for r in ranged for key in _range_keys(pipeline, r)]
    assert sorted(covered) == sorted(partition_key_for(ObjectRef(bucket, n)) for n in names)
    assert all(r.partition_key is None and r.tags[TAG_REASON] == "burst" for r in ranged)
    # run monitoring's limit is sized to the run's files, not to one file (dagster.yaml's 40 minutes)
    assert {r.tags[MAX_RUNTIME_TAG] for r in ranged} == {str(settings.batch_max_runtime_seconds(3))}
    # the same tick asked again (e.g. after a daemon restart) names the same runs: Dagster launches each once
    assert len({r.run_key for r in tick.run_requests}) == 3


def test_a_burst_run_gives_each_file_its_own_row_and_materialization(
    burst_env, pipeline: Pipeline, s3, bucket, store, tmp_path: Path
) -> None:
    good = [f"drop/{index}.dxf" for index in range(3)]
    for name in good:
        s3.put_object(Bucket=bucket, Key=name, Body=_drawing(tmp_path, f"DROP-{name[5]}"))
    s3.put_object(Bucket=bucket, Key="drop/3.dxf", Body=b"0\nSECTION\n2\nENTITIES\n0\nLINE\n8\n")  # cut short

    [request] = pipeline.tick().run_requests
    result = _run(pipeline, request)

    assert not result.success  # the run reports the bad file ...
    materialized = pipeline.instance.get_materialized_partitions(AssetKey(ASSET_NAME))
    assert materialized == {partition_key_for(ObjectRef(bucket, n)) for n in good}  # ... each good one is done
    for name in good:
        row = store.get(f"s3://{bucket}/{name}")
        assert row.status is JobStatus.COMPLETED and row.result["title_block"]["drawing_number"] == f"DROP-{name[5]}"
    bad = store.get(f"s3://{bucket}/drop/3.dxf")
    assert bad.status is JobStatus.FAILED and bad.error_kind.value == "permanent" and bad.retry_count == 0
    starts = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_START]
    assert len(starts) == 1  # a permanent failure is not retried


def test_in_a_burst_a_throttled_file_is_retried_on_the_schedule_and_a_corrupt_one_fails_once(
    burst_env, monkeypatch, pipeline: Pipeline, s3, bucket, store, tmp_path: Path
) -> None:
    from extraction_pipeline.defs.resources import S3ClientResource
    from extraction_pipeline_tests.test_batch import ThrottlingClient

    monkeypatch.setenv("EXTRACTION_RETRY_BASE_SECONDS", "0.2")  # 0.2 s, 0.8 s, 3.2 s: the plan's shape, faster
    pipeline = Pipeline(pipeline.instance)
    for index in range(3):
        s3.put_object(Bucket=bucket, Key=f"drop/{index}.dxf", Body=_drawing(tmp_path, f"DROP-{index}"))
    s3.put_object(Bucket=bucket, Key="drop/corrupt.dxf", Body=b"0\nSECTION\n2\nENTITIES\n0\nLINE\n8\n")
    [request] = pipeline.tick().run_requests  # four files, threshold 3: one run for all
    client = ThrottlingClient(s3, {"drop/1.dxf": 1})
    monkeypatch.setattr(S3ClientResource, "get_client", lambda self: client)

    result = _run(pipeline, request)

    throttled = store.get(f"s3://{bucket}/drop/1.dxf")
    assert (throttled.status, throttled.retry_count) == (JobStatus.COMPLETED, 1)
    assert client.get_calls["drop/1.dxf"] == 2 and client.get_calls["drop/corrupt.dxf"] == 1
    corrupt = store.get(f"s3://{bucket}/drop/corrupt.dxf")
    assert (corrupt.status, corrupt.error_kind.value, corrupt.retry_count) == (JobStatus.FAILED, "permanent", 0)
    assert not result.success
    assert pipeline.instance.get_materialized_partitions(AssetKey(ASSET_NAME)) == {
        partition_key_for(ObjectRef(bucket, f"drop/{index}.dxf")) for index in range(3)
    }


@pytest.mark.parametrize(
    ("files", "most", "sizes"),
    [(300, 250, [150, 150]), (250, 250, [250]), (10, 4, [4, 4, 2]), (501, 250, [167, 167, 167]), (9, 8, [5, 4])],
)
def test_burst_runs_are_as_few_as_the_batch_size_allows_and_even(files: int, most: int, sizes: list[int]) -> None:
    assert [len(chunk) for chunk in balanced_chunks(list(range(files)), most)] == sizes


def test_a_batch_run_may_take_every_file_at_the_timeout_on_every_attempt_plus_the_waits(monkeypatch) -> None:
    monkeypatch.setenv("EXTRACTION_TIMEOUT_SECONDS", "10")
    monkeypatch.setenv("EXTRACTION_MAX_RETRIES", "3")
    for name in ("EXTRACTION_RETRY_BASE_SECONDS", "EXTRACTION_RETRY_MULTIPLIER", "EXTRACTION_RETRY_JITTER"):
        monkeypatch.delenv(name, raising=False)
    waits = (30 + 120 + 480) * 1.25  # the plan's schedule with its +25 % jitter
    assert settings.batch_max_runtime_seconds(5) == int(5 * 10 * 4 + waits + 600)
    assert settings.batch_max_runtime_seconds(250) > 2400  # dagster.yaml's limit, sized for one file
