"""Runs over many partitions (defs/extraction/engine.py): every file its own outcome, few instance writes.

Runs go through ``materialize`` with the partition-range tags a backfill run carries (moto server, SQLite and
PostgreSQL jobs tables). S3 throttling of chosen keys is a real botocore ``ClientError`` (``SlowDown``) raised
by a thin wrapper around the real client, as botocore raises it once its own retries are spent.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from dagster import AssetKey, DagsterEventType, materialize

from extraction_pipeline.defs.extraction.assets import ASSET_NAME, file_extraction
from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME, partition_key_for
from extraction_pipeline.defs.extraction.processing import SandboxPool
from extraction_pipeline.defs.resources import S3ClientResource
from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.extractors.sandbox import ExtractionLimits
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline_tests.extractors.pdf_builders import build_drawing_pdf
from extraction_pipeline_tests.harness import Pipeline

PROBE = "extraction_pipeline_tests.extractors.sandbox_probe."

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


class ThrottlingClient:
    """The real S3 client, except that ``get_object`` of chosen keys answers 503 SlowDown ``n`` times."""

    def __init__(self, client: Any, throttled: dict[str, int]) -> None:
        self._client = client
        self.remaining = dict(throttled)
        self.get_calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def get_object(self, **kwargs: Any) -> Any:
        key = kwargs["Key"]
        with self._lock:
            self.get_calls[key] += 1
            throttle = self.remaining.get(key, 0) != 0
            if throttle:
                self.remaining[key] -= 1
        if throttle:
            error = {"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."},
                     "ResponseMetadata": {"HTTPStatusCode": 503}}  # fmt: skip
            raise ClientError(error, "GetObject")
        return self._client.get_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _register(pipeline: Pipeline, s3, bucket: str, files: dict[str, bytes]) -> list[str]:
    """Upload ``files``; one tick (runs off) writes their pending rows and partitions; their keys, in order."""
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    pipeline.tick()
    keys = pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME)
    assert len(keys) == len(files)
    return keys


def _run_range(pipeline: Pipeline, keys: list[str]):
    return materialize(
        [file_extraction],
        resources=pipeline.resources,
        instance=pipeline.instance,
        tags={RANGE_START: keys[0], RANGE_END: keys[-1]},
        raise_on_error=False,
    )


@pytest.fixture
def batch_env(monkeypatch) -> None:
    monkeypatch.setenv("EXTRACTION_SENSOR_LAUNCH_RUNS", "false")  # register only: the test runs the batch


def _pdfs(tmp_path: Path, count: int) -> dict[str, bytes]:
    return {
        f"batch/{i:02d}.pdf": build_drawing_pdf(tmp_path / f"{i}.pdf", drawing_number=f"B-{i:02d}").read_bytes()
        for i in range(count)
    }


def test_every_file_gets_its_row_and_materialization_and_dagster_events_do_not_grow_per_file(
    batch_env, pipeline: Pipeline, s3, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    files = _pdfs(tmp_path, 6)
    files["batch/zz-corrupt.pdf"] = b"%PDF-1.7\nthis is not really a pdf"
    keys = _register(pipeline, s3, bucket, files)

    result = _run_range(pipeline, keys)

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert "1 of 7 files failed" in failure.event_specific_data.error.message
    good = {partition_key_for(ObjectRef(bucket, k)) for k in files if "corrupt" not in k}
    assert pipeline.instance.get_materialized_partitions(AssetKey(ASSET_NAME)) == good
    for i in range(6):
        row = store.get(f"s3://{bucket}/batch/{i:02d}.pdf")
        assert row.status is JobStatus.COMPLETED and row.dagster_run_id == result.run_id
        assert row.result["title_block"]["drawing_number"] == f"B-{i:02d}"
        assert row.retry_count == 0 and row.started_at is not None and row.completed_at >= row.started_at
    bad = store.get(f"s3://{bucket}/batch/zz-corrupt.pdf")
    assert (bad.status, bad.error_kind, bad.retry_count) == (JobStatus.FAILED, ErrorKind.PERMANENT, 0)
    # Instance writes: per good file its materialization and its two check verdicts, nothing else.
    events = Counter(e.event_type for e in result.all_events)
    assert events[DagsterEventType.ASSET_MATERIALIZATION] == 6
    verdicts = [
        e.event_specific_data for e in result.all_events if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    assert sorted((v.check_name, v.partition) for v in verdicts) == sorted(
        (check, key) for key in good for check in ("result_matches_schema", "drawing_text_was_read")
    )
    per_file_logs = [e for e in pipeline.instance.all_logs(result.run_id) if e.user_message and "batch/0" in
                     e.user_message and not e.is_dagster_event]  # fmt: skip
    assert per_file_logs == []


def test_dagster_events_of_a_batch_are_fixed_plus_one_per_file(
    batch_env, pipeline: Pipeline, s3, bucket: str, tmp_path: Path
) -> None:
    files = _pdfs(tmp_path, 7)
    keys = _register(pipeline, s3, bucket, files)

    small = _run_range(pipeline, keys[:2])
    large = _run_range(pipeline, keys[2:])

    assert small.success and large.success

    def records(run_id: str) -> Counter[str]:
        logs = pipeline.instance.all_logs(run_id)
        return Counter(e.dagster_event.event_type_value if e.dagster_event else "log" for e in logs)

    # Three more files, twelve more records: Dagster's own "planned" record per partition, written when the run
    # is created, each file's materialization and its two check verdicts. Nothing else grows with the files.
    assert records(large.run_id) - records(small.run_id) == Counter(
        {"ASSET_MATERIALIZATION_PLANNED": 3, "ASSET_MATERIALIZATION": 3, "ASSET_CHECK_EVALUATION": 6}
    )
    assert records(small.run_id) - records(large.run_id) == Counter()


@pytest.mark.parametrize("retry_env", [{"EXTRACTION_RETRY_MULTIPLIER": "1", "EXTRACTION_RETRY_BASE_SECONDS": "0.6"}])
def test_retryable_failures_get_the_schedule_and_permanent_ones_fail_once(
    batch_env, retry_env, monkeypatch, pipeline: Pipeline, s3, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    for name, value in retry_env.items():
        monkeypatch.setenv(name, value)
    pipeline = Pipeline(pipeline.instance)  # resources re-read with the schedule above: 0.6 s per wait
    files = _pdfs(tmp_path, 3)
    files["batch/corrupt.pdf"] = b"%PDF-1.7\nnope"
    keys = _register(pipeline, s3, bucket, files)
    client = ThrottlingClient(s3, {"batch/01.pdf": 2, "batch/02.pdf": -1})  # 01 recovers, 02 never does
    monkeypatch.setattr(S3ClientResource, "get_client", lambda self: client)
    seen = _watch_rows(store, f"s3://{bucket}/batch/01.pdf")

    result = _run_range(pipeline, keys)
    seen.stop()

    assert client.get_calls == {"batch/00.pdf": 1, "batch/01.pdf": 3, "batch/02.pdf": 4, "batch/corrupt.pdf": 1}
    recovered = store.get(f"s3://{bucket}/batch/01.pdf")
    assert (recovered.status, recovered.retry_count, recovered.next_retry_at) == (JobStatus.COMPLETED, 2, None)
    assert ("retrying", 1) in seen.states and ("retrying", 2) in seen.states  # with next_retry_at meanwhile
    gave_up = store.get(f"s3://{bucket}/batch/02.pdf")
    assert (gave_up.status, gave_up.error_kind, gave_up.retry_count) == (JobStatus.FAILED, ErrorKind.RETRYABLE, 3)
    assert "SlowDown" in gave_up.error_message and "gave up after 4 attempts" in gave_up.error_message
    corrupt = store.get(f"s3://{bucket}/batch/corrupt.pdf")
    assert (corrupt.status, corrupt.error_kind, corrupt.retry_count) == (JobStatus.FAILED, ErrorKind.PERMANENT, 0)
    assert pipeline.instance.get_materialized_partitions(AssetKey(ASSET_NAME)) == {
        partition_key_for(ObjectRef(bucket, k)) for k in ("batch/00.pdf", "batch/01.pdf")
    }
    [failure] = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert "2 of 4 files failed" in failure.event_specific_data.error.message


def test_a_cancelled_file_in_a_batch_is_left_alone(
    batch_env, pipeline: Pipeline, s3, bucket: str, store: JobStore, tmp_path: Path
) -> None:
    keys = _register(pipeline, s3, bucket, _pdfs(tmp_path, 3))
    store.mark_cancelled(ObjectRef(bucket, "batch/01.pdf"))

    result = _run_range(pipeline, keys)

    assert result.success
    assert store.get(f"s3://{bucket}/batch/01.pdf").status is JobStatus.CANCELLED
    assert store.get(f"s3://{bucket}/batch/00.pdf").status is JobStatus.COMPLETED
    assert partition_key_for(ObjectRef(bucket, "batch/01.pdf")) not in pipeline.instance.get_materialized_partitions(
        AssetKey(ASSET_NAME)
    )


def test_sandbox_pool_parses_as_many_files_at_once_as_it_has_children(tmp_path: Path) -> None:
    """Two borrowed children run at the same time: each waits in a rendezvous that only concurrent calls complete
    (the pool is what spreads a batch)."""
    from concurrent.futures import ThreadPoolExecutor

    with SandboxPool(ExtractionLimits(timeout_seconds=120), 2) as pool:
        pids = [sandbox.call("os.getpid") for sandbox in pool._all]
        with ThreadPoolExecutor(2) as threads:
            met = list(threads.map(lambda _: _borrowed_rendezvous(pool, tmp_path / "met", 2), range(2)))
    assert len(set(pids)) == 2 and met == [2, 2]


def _borrowed_rendezvous(pool: SandboxPool, directory: Path, parties: int) -> int:
    sandbox = pool._free.get()
    try:
        # gives up after a minute, so a pool that serialized the calls fails instead of hanging
        return sandbox.call(PROBE + "rendezvous", str(directory), parties, 60.0)
    finally:
        pool._free.put(sandbox)


class _RowWatcher:
    def __init__(self, store: JobStore, file_url: str) -> None:
        self.states: set[tuple[str, int]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(store, file_url), daemon=True)
        self._thread.start()

    def _poll(self, store: JobStore, file_url: str) -> None:
        while not self._stop.wait(0.02):
            row = store.find(ObjectRef.from_file_url(file_url))
            if row is not None and (row.status is not JobStatus.RETRYING or row.next_retry_at is not None):
                self.states.add((row.status.value, row.retry_count))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _watch_rows(store: JobStore, file_url: str) -> _RowWatcher:
    return _RowWatcher(store, file_url)


def test_sandbox_pool_starts_its_children_before_the_first_file() -> None:
    """A batch's children start while its rows are read and its first files download, not at the first parse."""
    import time

    with SandboxPool(ExtractionLimits(timeout_seconds=30), 2) as pool:
        deadline = time.monotonic() + 30
        while any(sandbox.pid is None for sandbox in pool._all) and time.monotonic() < deadline:
            time.sleep(0.05)
        started = [sandbox.pid for sandbox in pool._all]
        answered = [sandbox.call("os.getpid") for sandbox in pool._all]
    assert None not in started and answered == started  # the warm children are the ones that answer
