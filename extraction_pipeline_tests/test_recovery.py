"""Crash safety: a run worker killed mid-extraction leaves no row ``processing`` (PostgreSQL instance, moto server).

The worker is a real subprocess materializing the partition against the production dagster.yaml on PostgreSQL;
its extraction is replaced (in the child only) by one that never returns, so SIGKILL lands mid-attempt with the
row ``processing`` and the Dagster run STARTED — exactly what an OOM kill or a machine restart leaves behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    SkipReason,
    build_run_status_sensor_context,
    build_sensor_context,
    instance_for_test,
)

from extraction_pipeline.definitions import build_resources
from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME, partition_key_for
from extraction_pipeline.defs.recovery.sensors import (
    WORKER_DIED,
    close_row_of_failed_run,
    close_rows_of_failed_runs,
    stuck_job_sweep,
    sweep_stuck_jobs,
)
from extraction_pipeline.errors import ErrorKind, StorageUnavailableError
from extraction_pipeline.objects import ObjectRef, ObjectVersion
from extraction_pipeline.store import JobStatus, JobStore, NewObject
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline.store.models import utcnow
from extraction_pipeline_tests.conftest import _fresh_postgres_database
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.harness import pipeline_env

REPO_ROOT = Path(__file__).resolve().parents[1]
PROCESSING_TIMEOUT_SECONDS = 60.0

# The run worker: materialize one partition; the extraction itself never returns (test-only patch in the child).
CRASHING_WORKER = """
import sys, time
from dagster import DagsterInstance, materialize
import extraction_pipeline.defs.extraction.assets as asset_module
import extraction_pipeline.defs.extraction.engine as engine_module
from extraction_pipeline.definitions import build_resources

def extraction_that_never_ends(*args, **kwargs):
    time.sleep(3600)

engine_module.extract_object = extraction_that_never_ends
with DagsterInstance.from_config(sys.argv[1]) as instance:
    materialize([asset_module.file_extraction], partition_key=sys.argv[2], instance=instance,
                resources=build_resources())
"""


@dataclass
class CrashSite:
    """A PostgreSQL-backed Dagster instance and jobs table, and the environment a run worker needs."""

    instance: DagsterInstance
    store: JobStore
    dagster_home: Path
    env: dict[str, str]
    bucket: str


@pytest.fixture
def crash_site(monkeypatch, tmp_path, postgres_server_url, moto_endpoint, bucket) -> Iterator[CrashSite]:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    jobs_url = _fresh_postgres_database(postgres_server_url)
    upgrade_database(jobs_url)
    env = {"DAGSTER_POSTGRES_URL": _fresh_postgres_database(postgres_server_url)}
    env.update(pipeline_env(moto_endpoint, bucket, jobs_url))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = JobStore(jobs_url)
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        yield CrashSite(instance, store, dagster_home, {**os.environ, **env}, bucket)
    store.dispose()


@dataclass
class CrashedAttempt:
    ref: ObjectRef
    run_id: str


def kill_worker_mid_extraction(site: CrashSite, s3, tmp_path: Path, key: str) -> CrashedAttempt:
    """Start a run worker on ``key``, wait until its row says ``processing``, then SIGKILL it."""
    ref = ObjectRef(site.bucket, key)
    s3.put_object(Bucket=site.bucket, Key=key, Body=build_drawing_dxf(tmp_path / "crash.dxf").read_bytes())
    partition_key = partition_key_for(ref)
    site.instance.add_dynamic_partitions(EXTRACTION_PARTITIONS_NAME, [partition_key])
    worker = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WORKER, str(site.dagster_home), partition_key],
        env=site.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        row = _wait_for_processing(site.store, ref, worker)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == -signal.SIGKILL
    assert site.instance.get_run_by_id(row.dagster_run_id).status is DagsterRunStatus.STARTED
    return CrashedAttempt(ref, row.dagster_run_id)


def _wait_for_processing(store: JobStore, ref: ObjectRef, worker: subprocess.Popen):
    deadline = time.monotonic() + PROCESSING_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        row = store.find(ref)
        if row is not None and row.status is JobStatus.PROCESSING:
            return row
        if worker.poll() is not None:
            raise AssertionError(f"run worker exited early: {worker.stderr.read().decode()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"{ref.file_url} never became processing")


@pytest.mark.postgres
@pytest.mark.slow
def test_sigkilled_run_worker_ends_as_a_failed_row_and_a_failed_run_within_the_bound(
    crash_site: CrashSite, s3, tmp_path: Path, monkeypatch
) -> None:
    crash = kill_worker_mid_extraction(crash_site, s3, tmp_path, "crash/killed.dxf")
    site = crash_site

    # Before stuck_after has passed the row might still be a live attempt: the sweep leaves it alone.
    assert sweep_stuck_jobs(site.store, site.instance, stuck_after_seconds=3600) == []
    assert site.store.get(crash.ref.file_url).status is JobStatus.PROCESSING

    # The production entry point (the sensor), with stuck_after = 1 s: one sweep after that ends it, not "forever".
    monkeypatch.setenv("EXTRACTION_STUCK_AFTER_SECONDS", "1")
    time.sleep(1.1)
    with build_sensor_context(instance=site.instance, resources=build_resources()) as context:
        outcome = stuck_job_sweep(context)

    assert isinstance(outcome, SkipReason) and "failed 1 stuck job" in (outcome.skip_message or "")
    row = site.store.get(crash.ref.file_url)
    assert row.status is JobStatus.FAILED
    assert row.error_kind is ErrorKind.RETRYABLE
    assert row.error_message.startswith(WORKER_DIED) and crash.run_id in row.error_message
    assert row.completed_at is not None and row.next_retry_at is None
    run = site.instance.get_run_by_id(crash.run_id)
    assert run.status is DagsterRunStatus.FAILURE
    # A second sweep finds nothing: the row is final, the run finished.
    assert sweep_stuck_jobs(site.store, site.instance, stuck_after_seconds=1) == []


@pytest.mark.postgres
@pytest.mark.slow
def test_run_failure_sensor_closes_the_row_when_run_monitoring_fails_the_crashed_run(
    crash_site: CrashSite, s3, tmp_path: Path
) -> None:
    import logging

    from dagster._daemon.monitoring.run_monitoring import check_run_timeout

    crash = kill_worker_mid_extraction(crash_site, s3, tmp_path, "crash/timed-out.dxf")
    site = crash_site
    time.sleep(1.1)

    # What the monitoring daemon does once max_runtime_seconds has passed (here: 1 s).
    record = site.instance.get_run_record_by_id(crash.run_id)
    check_run_timeout(site.instance, record, logging.getLogger("test"), default_timeout_seconds=1)
    run = site.instance.get_run_by_id(crash.run_id)
    assert run.status is DagsterRunStatus.FAILURE
    assert site.store.get(crash.ref.file_url).status is JobStatus.PROCESSING  # Dagster alone does not close it

    [failure] = site.instance.get_records_for_run(crash.run_id, of_type=DagsterEventType.RUN_FAILURE).records
    failure_event = failure.event_log_entry.dagster_event
    with build_run_status_sensor_context(
        sensor_name="close_rows_of_failed_runs",
        dagster_event=failure_event,
        dagster_instance=site.instance,
        dagster_run=run,
        resources=build_resources(),
    ) as context:
        close_rows_of_failed_runs(context.for_run_failure())

    row = site.store.get(crash.ref.file_url)
    assert row.status is JobStatus.FAILED and row.error_kind is ErrorKind.RETRYABLE
    assert row.error_message == f"run {crash.run_id} failed: {failure_event.message}"


# --- the rules, without a crash --------------------------------------------------------------------------
def _pending(store: JobStore, key: str) -> ObjectRef:
    ref = ObjectRef("bucket", key)
    version = ObjectVersion(ref, etag="e1", size=1, last_modified=utcnow())
    store.upsert_pending([NewObject(version, partition_key_for(ref), "pdf")], max_retries=3)
    return ref


def test_sweep_fails_a_retry_that_never_came_and_leaves_live_attempts_alone(store: JobStore) -> None:
    lost_retry = _pending(store, "lost-retry.pdf")
    store.mark_processing(lost_retry, run_id="gone-run", attempt=0)
    store.mark_retrying(
        lost_retry,
        error=StorageUnavailableError("S3 unreachable"),
        retry_count=1,
        next_retry_at=utcnow() - timedelta(seconds=120),
    )
    waiting = _pending(store, "waiting.pdf")
    store.mark_processing(waiting, run_id="live-run", attempt=0)
    store.mark_retrying(
        waiting, error=StorageUnavailableError("x"), retry_count=1, next_retry_at=utcnow() + timedelta(seconds=30)
    )
    running = _pending(store, "running.pdf")
    store.mark_processing(running, run_id="live-run-2", attempt=0)

    with instance_for_test() as instance:  # none of these runs exists there: only the rows change
        swept = sweep_stuck_jobs(store, instance, stuck_after_seconds=60)

    assert [item.job.file_url for item in swept] == [lost_retry.file_url]
    assert swept[0].failed_run_id is None
    row = store.get(lost_retry.file_url)
    assert row.status is JobStatus.FAILED and row.error_kind is ErrorKind.RETRYABLE
    assert row.error_message.startswith(f"{WORKER_DIED}: retry 1 was due at")
    assert store.get(waiting.file_url).status is JobStatus.RETRYING
    assert store.get(running.file_url).status is JobStatus.PROCESSING


def test_failed_run_leaves_alone_a_row_a_newer_run_owns_and_runs_without_a_partition(store: JobStore) -> None:
    from dagster import DagsterRun

    ref = _pending(store, "owned.pdf")
    store.mark_processing(ref, run_id="newer-run", attempt=0)
    key = partition_key_for(ref)

    assert not close_row_of_failed_run(store, DagsterRun("j", run_id="older-run", tags={"dagster/partition": key}), "x")
    assert not close_row_of_failed_run(store, DagsterRun("j", run_id="no-partition"), "x")
    assert store.get(ref.file_url).status is JobStatus.PROCESSING

    assert close_row_of_failed_run(store, DagsterRun("j", run_id="newer-run", tags={"dagster/partition": key}), "boom")
    row = store.get(ref.file_url)
    assert row.status is JobStatus.FAILED and row.error_message == "run newer-run failed: boom"
