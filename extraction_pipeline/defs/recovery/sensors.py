"""Crash safety: no ``extraction_jobs`` row stays ``processing``/``retrying`` after its run worker is gone.

The asset closes its row itself on every outcome it lives to see. What it cannot see is its own death: SIGKILL,
the OOM killer or a machine restart stop the run worker between ``mark_processing`` and the final write, and
the default run launcher cannot tell that the worker is gone, so the Dagster run also stays STARTED. Two
backstops, both plain functions here that the sensors (and the tests) call:

- ``close_row_of_failed_run`` — run by ``close_rows_of_failed_runs`` (a ``run_failure_sensor``): when Dagster
  itself ends a run as failed (run monitoring's start timeout or ``max_runtime_seconds``, a run worker that
  crashed while launching, a failure the step's hook never saw) the partition's row is failed with the run's
  failure message, if it is still active.
- ``sweep_stuck_jobs`` — run by ``stuck_job_sweep`` every ``SWEEP_INTERVAL_SECONDS``: a row ``processing`` for
  longer than ``stuck_after_seconds``, or ``retrying`` with ``next_retry_at`` more than that in the past, has a
  dead worker. One attempt cannot legitimately take that long, because the sandbox kills the parser after
  ``EXTRACTION_TIMEOUT_SECONDS`` (120 s by default) and a retry starts at ``next_retry_at``. The row is failed
  as retryable ("run worker died: …") and its run, if still STARTED, is reported failed so the UI agrees
  (which, with ``run_retries`` in dagster.yaml, also lets Dagster re-queue the crashed run once).

- ``relaunch_rows_of_dead_runs`` — also run by ``stuck_job_sweep``: a row failed by either backstop above is
  extracted again by a new run of its own, once Dagster is done with the dead run (no run of it still active, and
  Dagster's own run retry, ``run_retries`` in dagster.yaml, not coming or itself failed — a retry whose launch
  times out on a busy machine would otherwise leave the file failed for good). At most the row's ``max_retries``
  such runs per file; the run key names the file's ETag and the count, so a repeated tick launches nothing new.

The bound: a row whose worker died leaves ``processing``/``retrying`` at most
``stuck_after_seconds + SWEEP_INTERVAL_SECONDS`` after the attempt started (or after its retry was due) — by
default 900 s + 60 s = 16 minutes (``EXTRACTION_STUCK_AFTER_SECONDS``), plus however long the daemon itself was
down. Keep ``stuck_after_seconds`` above ``EXTRACTION_TIMEOUT_SECONDS`` plus a large file's download time; the
sweep logs a warning when it is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dagster import (
    AssetKey,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from extraction_pipeline.defs.extraction.assets import ASSET_NAME, PARTITION_TAG
from extraction_pipeline.defs.extraction.jobs import extract_files
from extraction_pipeline.defs.extraction.partitions import object_for_partition
from extraction_pipeline.defs.resources import ExtractionSettings, JobStoreResource
from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.names import TAG_FILE, TAG_FORMAT, TAG_REASON, TAG_VALUE_MAX
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus, JobStore, StoredJob
from extraction_pipeline.store.models import utcnow

SWEEP_INTERVAL_SECONDS = 60
WORKER_DIED = "run worker died"
RECOVERY_REASON = "recovery"  # extraction/reason of the runs relaunch_rows_of_dead_runs requests
RELAUNCH_WINDOW = timedelta(days=1)  # rows failed longer ago are left to an operator
_ROOT_RUN_TAG, _RETRY_NUMBER_TAG, _WILL_RETRY_TAG = "dagster/root_run_id", "dagster/retry_number", "dagster/will_retry"


# --- runs that Dagster ended as failed -------------------------------------------------------------------
def close_row_of_failed_run(store: JobStore, run: DagsterRun, reason: str) -> bool:
    """Fail the row of ``run``'s partition if it is still active; True if a row was closed."""
    partition_key = run.tags.get(PARTITION_TAG)
    if not partition_key or not _materializes_extraction(run):
        return False
    try:
        ref = object_for_partition(partition_key)
    except ValueError:
        return False
    row = store.find(ref)
    if row is None or row.dagster_run_id not in (None, run.run_id):
        # A newer run (retry, re-upload) owns the row now; this run's failure says nothing about it.
        return False
    return store.fail_if_active(ref, message=f"{_run_failed_prefix(run.run_id)}: {reason}", kind=ErrorKind.RETRYABLE)


def _run_failed_prefix(run_id: str) -> str:
    return f"run {run_id} failed"


def _materializes_extraction(run: DagsterRun) -> bool:
    # An empty selection means the whole job, which is this asset in this code location.
    return not run.asset_selection or AssetKey(ASSET_NAME) in run.asset_selection


@run_failure_sensor(
    name="close_rows_of_failed_runs",
    default_status=DefaultSensorStatus.RUNNING,
    description="Fails the extraction_jobs row of a run that Dagster ended as failed (crash, run monitoring).",
)
def close_rows_of_failed_runs(context: RunFailureSensorContext, job_store: JobStoreResource) -> None:
    # No monitored_jobs: the runs of this code location are the asset's runs (the sensor's and backfills').
    reason = context.failure_event.message or "run failed"
    if close_row_of_failed_run(job_store.get_store(), context.dagster_run, reason):
        context.log.info(f"closed the row of failed run {context.dagster_run.run_id}: {reason}")


# --- rows whose run worker died --------------------------------------------------------------------------
@dataclass(frozen=True)
class SweptJob:
    """A row the sweep failed, and the Dagster run it also marked failed (if that run was still STARTED)."""

    job: StoredJob
    message: str
    failed_run_id: str | None


def sweep_stuck_jobs(
    store: JobStore,
    instance: DagsterInstance,
    *,
    stuck_after_seconds: float,
    now: datetime | None = None,
) -> list[SweptJob]:
    """Fail every row stuck in ``processing``/``retrying`` for over ``stuck_after_seconds``, and its run."""
    older_than = (now or utcnow()) - timedelta(seconds=stuck_after_seconds)
    swept: list[SweptJob] = []
    for job in store.stuck_processing(older_than):
        message = _worker_died_message(job, stuck_after_seconds)
        if not store.fail_if_stuck(_ref(job), older_than=older_than, message=message, kind=ErrorKind.RETRYABLE):
            continue  # the row moved on between the read and the write: its worker is alive after all
        swept.append(SweptJob(job, message, _fail_started_run(instance, job.dagster_run_id, message)))
    return swept


def _ref(job: StoredJob) -> ObjectRef:
    return object_for_partition(job.partition_key)


def _worker_died_message(job: StoredJob, stuck_after_seconds: float) -> str:
    run = f"run {job.dagster_run_id}" if job.dagster_run_id else "its run"
    if job.status is JobStatus.RETRYING and job.next_retry_at is not None:
        since = f"retry {job.retry_count} was due at {job.next_retry_at.isoformat()} and never started"
    else:
        started = job.started_at.isoformat() if job.started_at else "an unknown time"
        since = f"attempt started at {started} and did not finish"
    return f"{WORKER_DIED}: {since} ({run}; no progress for over {stuck_after_seconds:g} s)"


def _fail_started_run(instance: DagsterInstance, run_id: str | None, message: str) -> str | None:
    """Mark the row's run failed if Dagster still thinks it is running, so the UI and the row agree."""
    if not run_id:
        return None
    run = instance.get_run_by_id(run_id)
    if run is None or run.status is not DagsterRunStatus.STARTED:
        return None
    instance.report_run_failed(run, message=message)
    return run_id


# --- files whose run died: a new run ----------------------------------------------------------------------
def relaunch_rows_of_dead_runs(
    store: JobStore, instance: DagsterInstance, *, now: datetime | None = None
) -> list[RunRequest]:
    """A run for each row a backstop failed ("run worker died", "run … failed") once Dagster is done with it."""
    since = (now or utcnow()) - RELAUNCH_WINDOW
    requests: list[RunRequest] = []
    for job in store.failed_retryable([WORKER_DIED, "run "], since=since):
        if not _failed_with_its_run(job) or _dagster_still_on_it(instance, job):
            continue
        relaunched = instance.get_runs_count(
            RunsFilter(tags={PARTITION_TAG: job.partition_key, TAG_REASON: RECOVERY_REASON})
        )
        if relaunched >= job.max_retries:
            continue
        requests.append(
            RunRequest(
                partition_key=job.partition_key,
                run_key=f"{RECOVERY_REASON}:{job.partition_key}@{job.etag}#{relaunched + 1}",
                tags={
                    TAG_FORMAT: job.format or "unknown",
                    TAG_FILE: job.filename[:TAG_VALUE_MAX],
                    TAG_REASON: RECOVERY_REASON,
                },
            )
        )
    return requests


def _failed_with_its_run(job: StoredJob) -> bool:
    message = job.error_message or ""
    return message.startswith(WORKER_DIED) or (
        job.dagster_run_id is not None and message.startswith(_run_failed_prefix(job.dagster_run_id))
    )


def _dagster_still_on_it(instance: DagsterInstance, job: StoredJob) -> bool:
    """Whether a run may still extract the file: one of its partition is active, or the dead run's retry
    chain (Dagster's ``run_retries``) has a run active or one coming."""
    active = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
              DagsterRunStatus.STARTED]  # fmt: skip
    if instance.get_runs_count(RunsFilter(tags={PARTITION_TAG: job.partition_key}, statuses=active)):
        return True
    run = instance.get_run_by_id(job.dagster_run_id) if job.dagster_run_id else None
    if run is None:
        return False
    root_id = run.tags.get(_ROOT_RUN_TAG, run.run_id)
    chain = [r for r in [instance.get_run_by_id(root_id)] if r is not None]
    chain += instance.get_runs(RunsFilter(tags={_ROOT_RUN_TAG: root_id}))
    if any(not r.is_finished for r in chain):
        return True
    latest = max(chain, key=_retry_number, default=run)
    return latest.status is DagsterRunStatus.FAILURE and latest.tags.get(_WILL_RETRY_TAG) == "true"


def _retry_number(run: DagsterRun) -> int:
    try:
        return int(run.tags.get(_RETRY_NUMBER_TAG, "0"))
    except ValueError:
        return 0


@sensor(
    name="stuck_job_sweep",
    job=extract_files,
    minimum_interval_seconds=SWEEP_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Fails extraction_jobs rows (and their runs) whose run worker died mid-attempt, and runs them again.",
)
def stuck_job_sweep(
    context: SensorEvaluationContext,
    job_store: JobStoreResource,
    extraction_settings: ExtractionSettings,
) -> Any:
    stuck_after = extraction_settings.stuck_after_seconds
    timeout = extraction_settings.limits().timeout_seconds
    if stuck_after <= timeout:
        context.log.warning(
            f"stuck_after_seconds ({stuck_after}) is not above EXTRACTION_TIMEOUT_SECONDS ({timeout:g}): "
            "the sweep may fail attempts that are still running"
        )
    store = job_store.get_store()
    swept = sweep_stuck_jobs(store, context.instance, stuck_after_seconds=stuck_after)
    for item in swept:
        context.log.warning(f"{item.job.file_url}: {item.message}")
    relaunches = relaunch_rows_of_dead_runs(store, context.instance)
    for request in relaunches:
        context.log.info(f"{request.partition_key}: its run died; extracting it again ({request.run_key})")
    if relaunches:
        return SensorResult(run_requests=relaunches)
    return SkipReason(f"failed {len(swept)} stuck job(s)" if swept else "no stuck jobs")
