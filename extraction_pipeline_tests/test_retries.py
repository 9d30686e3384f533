"""Retries follow the plan (scaled down): real network faults between the pipeline and S3 / PostgreSQL.

Scale: ``EXTRACTION_RETRY_BASE_SECONDS`` shrinks the 30 s base; the multiplier (4) and max retries (3) are the
production values, jitter is 0 so the waits are exact.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from dagster import DagsterEventType, ExecuteInProcessResult
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext, make_url

from extraction_pipeline.defs.extraction.retries import RetrySchedule
from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.faults import TcpProxy
from extraction_pipeline_tests.harness import Pipeline, pipeline_env


@pytest.fixture
def s3_proxy(moto_endpoint: str) -> Iterator[TcpProxy]:
    parsed = urlparse(moto_endpoint)
    proxy = TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 80)
    yield proxy
    proxy.close()


def make_pipeline(monkeypatch, instance, proxy: TcpProxy, bucket: str, database_url: str, base: str) -> Pipeline:
    env = pipeline_env(f"http://127.0.0.1:{proxy.port}", bucket, database_url,
                       EXTRACTION_RETRY_BASE_SECONDS=base, EXTRACTION_S3_MAX_ATTEMPTS="0")  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Pipeline(instance)


def waits(result: ExecuteInProcessResult) -> list[float]:
    return [
        event.event_specific_data.seconds_to_wait
        for event in result.all_events
        if event.event_type == DagsterEventType.STEP_UP_FOR_RETRY
    ]


def step_starts(result: ExecuteInProcessResult) -> int:
    return sum(
        event.event_type in (DagsterEventType.STEP_START, DagsterEventType.STEP_RESTARTED)
        for event in result.all_events
    )


class RowWatcher:
    """Polls the row in the background and keeps every distinct state it passes through."""

    def __init__(self, store: JobStore, file_url: str) -> None:
        self.store, self.file_url = store, file_url
        self.states: list[tuple[str, int, bool, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> RowWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            row = self.store.get(self.file_url)
            state = (row.status.value, row.retry_count, row.error_message is not None, row.next_retry_at is not None)
            if not self.states or self.states[-1] != state:
                self.states.append(state)
            time.sleep(0.02)


def upload_dxf(s3, bucket: str, tmp_path: Path, key: str = "flaky.dxf") -> str:
    s3.put_object(Bucket=bucket, Key=key, Body=build_drawing_dxf(tmp_path / "f.dxf").read_bytes())
    return f"s3://{bucket}/{key}"


def test_download_fails_twice_then_succeeds_on_the_exact_schedule(
    monkeypatch, instance, s3_proxy, s3, bucket, database_url, store, tmp_path
) -> None:
    pipeline = make_pipeline(monkeypatch, instance, s3_proxy, bucket, database_url, base="0.25")
    file_url = upload_dxf(s3, bucket, tmp_path)
    [request] = pipeline.tick().run_requests
    s3_proxy.throttle_next(2)

    with RowWatcher(store, file_url) as watcher:
        result = pipeline.run(request.partition_key, dict(request.tags))

    assert result.success
    assert waits(result) == [0.25, 1.0]  # 0.25 x 4^0, 0.25 x 4^1
    assert s3_proxy.throttled == 2
    # between attempts the row says retrying, with the upcoming retry number, the last error and when
    assert ("retrying", 1, True, True) in watcher.states
    assert ("retrying", 2, True, True) in watcher.states
    row = store.get(file_url)
    assert row.status is JobStatus.COMPLETED and row.retry_count == 2
    assert row.error_message is None and row.error_kind is None and row.next_retry_at is None


def test_retryable_failure_gives_up_after_three_retries_with_the_right_fields(
    monkeypatch, instance, s3_proxy, s3, bucket, database_url, store, tmp_path
) -> None:
    pipeline = make_pipeline(monkeypatch, instance, s3_proxy, bucket, database_url, base="0.02")
    file_url = upload_dxf(s3, bucket, tmp_path)
    [request] = pipeline.tick().run_requests
    s3_proxy.throttle_next(1000)

    result = pipeline.run(request.partition_key, dict(request.tags))

    assert not result.success
    assert waits(result) == pytest.approx([0.02, 0.08, 0.32])
    assert step_starts(result) == 4
    row = store.get(file_url)
    assert row.status is JobStatus.FAILED
    assert row.error_kind is ErrorKind.RETRYABLE
    assert row.retry_count == 3
    assert "gave up after 4 attempts" in row.error_message and "S3" in row.error_message


def test_permanent_error_is_not_retried(monkeypatch, instance, s3_proxy, s3, bucket, database_url, store) -> None:
    pipeline = make_pipeline(monkeypatch, instance, s3_proxy, bucket, database_url, base="0.02")
    s3.put_object(Bucket=bucket, Key="random.ifc", Body=bytes(range(256)) * 4)
    [request] = pipeline.tick().run_requests

    result = pipeline.run(request.partition_key, dict(request.tags))

    assert not result.success and waits(result) == [] and step_starts(result) == 1
    row = store.get(f"s3://{bucket}/random.ifc")
    assert row.status is JobStatus.FAILED and row.error_kind is ErrorKind.PERMANENT and row.retry_count == 0
    assert "random.ifc" in row.error_message


def test_s3_endpoint_down_during_a_run_comes_back(
    monkeypatch, instance, s3_proxy, s3, bucket, database_url, store, tmp_path
) -> None:
    pipeline = make_pipeline(monkeypatch, instance, s3_proxy, bucket, database_url, base="0.2")
    file_url = upload_dxf(s3, bucket, tmp_path)
    [request] = pipeline.tick().run_requests
    s3_proxy.down()

    def back_up_once_the_row_says_retrying() -> None:
        deadline = time.monotonic() + 30
        while store.get(file_url).status is not JobStatus.RETRYING and time.monotonic() < deadline:
            time.sleep(0.01)
        s3_proxy.up()

    threading.Thread(target=back_up_once_the_row_says_retrying, daemon=True).start()
    result = pipeline.run(request.partition_key, dict(request.tags))

    assert result.success
    assert waits(result) == [0.2]
    row = store.get(file_url)
    assert row.status is JobStatus.COMPLETED and row.retry_count == 1


@pytest.mark.postgres
def test_database_refusing_connections_during_the_write_is_retried_without_re_extracting(
    monkeypatch, instance, s3_proxy, s3, bucket, postgres_server_url, tmp_path
) -> None:
    from extraction_pipeline_tests.conftest import _fresh_postgres_database

    real_url = make_url(_fresh_postgres_database(postgres_server_url))
    upgrade_database(real_url.render_as_string(hide_password=False))
    pg_proxy = TcpProxy(real_url.host or "127.0.0.1", real_url.port or 5432)
    proxied_url = real_url.set(host="127.0.0.1", port=pg_proxy.port).render_as_string(hide_password=False)
    pipeline = make_pipeline(monkeypatch, instance, s3_proxy, bucket, proxied_url, base="0.05")
    file_url = upload_dxf(s3, bucket, tmp_path)
    [request] = pipeline.tick().run_requests

    outage_started = threading.Event()
    refusals: list[bool] = []  # per refused connection: was it the result write (JobStore.complete)?

    def database_outage() -> None:
        # The download has started, so the row is already `processing`: the next database use is the result write.
        s3_proxy.on_accept = None
        pg_proxy.down()
        outage_started.set()

    def on_database_error(context: ExceptionContext) -> None:
        if context.engine is None or context.engine.url.port != pg_proxy.port:
            return
        if "Connection refused" in str(context.original_exception):
            refusals.append("complete" in {frame.name for frame in traceback.extract_stack()})
            pg_proxy.up()  # the write has failed once: the database is back for its retry

    s3_proxy.on_accept = database_outage
    event.listen(Engine, "handle_error", on_database_error)
    try:
        result = pipeline.run(request.partition_key, dict(request.tags))
    finally:
        event.remove(Engine, "handle_error", on_database_error)
        pg_proxy.close()

    assert outage_started.is_set()
    assert refusals == [True]  # the result write met a refused connection, once, and its retry succeeded
    assert result.success
    assert waits(result) == [] and step_starts(result) == 1  # the extraction ran once
    row = JobStore(real_url.render_as_string(hide_password=False)).get(file_url)
    assert row.status is JobStatus.COMPLETED and row.result["title_block"]["drawing_number"] == "DWG-2001"


@pytest.mark.parametrize("retry_number, nominal", [(0, 30.0), (1, 120.0), (2, 480.0)])
def test_schedule_is_30s_2min_8min_with_up_to_25_percent_jitter(retry_number: int, nominal: float) -> None:
    import random

    schedule = RetrySchedule()
    rng = random.Random(7)
    delays = [schedule.delay(retry_number, rng) for _ in range(200)]
    assert schedule.nominal_delay(retry_number) == nominal
    assert all(nominal <= d <= nominal * 1.25 for d in delays)
    assert max(delays) - min(delays) > nominal * 0.15  # the jitter is real
    assert schedule.should_retry(2) and not schedule.should_retry(3)
