"""Operator actions on extraction jobs — retry, bulk re-extraction, cancel — through the running Dagster.

Retries and cancellations go through the webserver's GraphQL API (``dagster_api``), never a side path, so every
run they start or stop is an ordinary run of the instance: queued under its concurrency limits, visible in the
UI, monitored, and tagged like the sensor's runs.

- ``retry_job``: one run of the job's partition; the row becomes ``pending`` for that run.
- ``retry_jobs_with_status``: one backfill of ``extract_files`` over every row with a status, e.g. all
  ``failed`` ones, or all ``completed`` ones after an extractor upgrade.

Both first check that the instance behind the webserver owns the file — its ``extract_files`` job watches the
row's bucket and it registered the partition — so a CLI pointed at another stack refuses instead of launching a
run that cannot find its partition.
- ``cancel_job``: the row becomes ``cancelled`` and the partition's queued/started runs are terminated.

Retries launch first and then move the row with a compare-and-set, so a launch that fails leaves the row as it
was, and a run that starts quickly is never overwritten. Their runs carry ``extraction/reason``, so the asset
refuses one that starts after the operator cancelled the job again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from extraction_pipeline.dagster_api import (
    START_WAIT_SECONDS,
    AssetJob,
    DagsterApiError,
    DagsterWebserver,
    WrongInstanceError,
    active_runs_of_partition,
    find_asset_job,
    instance_has_partition,
    instance_partition_keys,
    launch_backfill,
    launch_partition_run,
    report_observation,
    terminate_run,
)
from extraction_pipeline.errors import ExtractionError, OperationError
from extraction_pipeline.names import RETRY_REASON, TAG_FILE, TAG_FORMAT, TAG_REASON, TAG_VALUE_MAX, jobs_show_command
from extraction_pipeline.objects import ObjectRef, ObjectVersion
from extraction_pipeline.s3 import head_object
from extraction_pipeline.settings import DAGSTER_URL_ENV
from extraction_pipeline.store import JobStatus, JobStore, StoredJob
from extraction_pipeline.store.rows import JobNotFoundError

RETRYABLE_STATUSES = frozenset({JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.COMPLETED})
CANCELLABLE_STATUSES = frozenset({JobStatus.PENDING, JobStatus.RETRYING, JobStatus.PROCESSING})


class UnknownJobError(OperationError):
    """No row has that id or file_url."""


class JobStateError(OperationError):
    """The job is in a state the action does not apply to."""


def check_instance_owns(webserver: DagsterWebserver, job: AssetJob, row: StoredJob) -> None:
    """Refuse to launch for a file the instance behind ``webserver`` does not know (e.g. another stack on :3000):
    its run would fail to find the partition and retry for minutes."""
    bucket = ObjectRef.from_file_url(row.file_url).bucket
    if job.bucket is not None and job.bucket != bucket:
        raise WrongInstanceError(
            f"the Dagster instance at {webserver.url} watches bucket {job.bucket!r}, not {bucket!r} of job {row.id}: "
            f"set {DAGSTER_URL_ENV} to the webserver of the stack that extracts {bucket!r}"
        )
    if not instance_has_partition(webserver, row.partition_key):
        raise WrongInstanceError(
            f"the Dagster instance at {webserver.url} has no partition {row.partition_key!r} (job {row.id}): "
            f"set {DAGSTER_URL_ENV} to the webserver of the stack that registered it"
        )


def retry_run_tags(row: StoredJob) -> dict[str, str]:
    """The tags of an operator's retry run: the sensor's tags, with the operator as the reason."""
    return {
        TAG_FORMAT: row.format or "unknown",
        TAG_FILE: row.filename[:TAG_VALUE_MAX],
        TAG_REASON: RETRY_REASON,
    }


# --- the actions ---------------------------------------------------------------------------------------------
def find_job(store: JobStore, job: str) -> StoredJob:
    """The row with id or file_url ``job``."""
    try:
        return store.get(job)
    except JobNotFoundError as error:
        raise UnknownJobError(f"{error.message}: see `extraction-pipeline jobs list`") from error


@dataclass(frozen=True)
class RetryOutcome:
    job: StoredJob
    run_id: str
    row_reset: bool  # False: the run had already moved the row on (it is processing or done)


def retry_job(store: JobStore, job: str, *, webserver: DagsterWebserver, s3_client: Any) -> RetryOutcome:
    """Re-extract one failed/cancelled/completed job: launch a run of its partition, then mark it pending."""
    row = find_job(store, job)
    if row.status not in RETRYABLE_STATUSES:
        raise JobStateError(
            f"job {row.id} is {row.status.value}: a run is queued or running for it; "
            f"`jobs cancel {row.id}` first to start it over"
        )
    job_def = find_asset_job(webserver)
    check_instance_owns(webserver, job_def, row)
    current = _current_object(s3_client, row)
    run_id = launch_partition_run(webserver, job_def, row.partition_key, retry_run_tags(row))
    reset = store.reset_to_pending(row, run_id=run_id, etag=current.etag, file_size=current.size)
    return RetryOutcome(store.get(row.id), run_id, reset)


def _current_object(s3_client: Any, row: StoredJob) -> ObjectVersion:
    """The object version now in S3: the retry extracts it, so the row records it (the sensor then leaves it)."""
    try:
        return head_object(s3_client, ObjectRef.from_file_url(row.file_url))
    except ExtractionError as error:
        raise OperationError(f"cannot retry job {row.id}: {error.message}") from error


@dataclass(frozen=True)
class BulkRetryOutcome:
    status: JobStatus
    backfill_id: str | None  # None: no job had that status
    partition_keys: list[str] = field(default_factory=list)
    rows_reset: int = 0
    skipped: int = 0  # rows whose partition the instance does not have


def retry_jobs_with_status(store: JobStore, status: JobStatus, *, webserver: DagsterWebserver) -> BulkRetryOutcome:
    """Re-extract every job with ``status`` (e.g. all failed ones after a fix) as one backfill."""
    if status not in RETRYABLE_STATUSES:
        allowed = ", ".join(sorted(s.value for s in RETRYABLE_STATUSES))
        raise JobStateError(f"cannot re-extract {status.value} jobs in bulk (only {allowed})")
    jobs = store.partition_keys_with_status(status)
    if not jobs:
        return BulkRetryOutcome(status, None)
    job_def = find_asset_job(webserver)
    known = instance_partition_keys(webserver)
    # Only what the instance behind the webserver owns: its runs of any other partition could not start.
    owned = [(job_id, key) for job_id, key in jobs if key in known]
    if not owned:
        raise WrongInstanceError(
            f"none of the {len(jobs)} {status.value} job(s) is a partition of the Dagster instance at "
            f"{webserver.url}: set {DAGSTER_URL_ENV} to the webserver of the stack that registered them"
        )
    keys = list(dict.fromkeys(key for _id, key in owned))
    title = f"re-extract {len(keys)} {status.value} job(s)"
    backfill_id = launch_backfill(webserver, keys, title=title, tags={TAG_REASON: RETRY_REASON}, job=job_def)
    reset = store.reset_status_to_pending([job_id for job_id, _key in owned], from_status=status)
    return BulkRetryOutcome(status, backfill_id, keys, reset, skipped=len(jobs) - len(owned))


_CANCELLED_NOTE = "cancelled by an operator (`extraction-pipeline jobs cancel`); "


@dataclass(frozen=True)
class CancelOutcome:
    job: StoredJob
    terminated_run_ids: list[str]
    termination_failures: dict[str, str]  # run id → Dagster's reason


def cancel_job(
    store: JobStore, job: str, *, webserver: DagsterWebserver, start_wait_seconds: float = START_WAIT_SECONDS
) -> CancelOutcome:
    """Cancel a pending/retrying/processing job: the row becomes ``cancelled``, its runs end ``CANCELED``.

    A run still starting is waited for (``start_wait_seconds``) so that it can be stopped cleanly; a run that
    starts anyway finds its job cancelled and cancels itself without extracting (see the run engine).
    """
    row = find_job(store, job)
    if row.status not in CANCELLABLE_STATUSES:
        raise JobStateError(
            f"job {row.id} is {row.status.value}: only pending, retrying or processing jobs can be cancelled"
        )
    # Ask Dagster first: an unreachable webserver then leaves the row untouched.
    run_ids = active_runs_of_partition(webserver, row.partition_key)
    # The row first: a run of this partition that starts meanwhile sees `cancelled` and stops. Only an active row
    # is cancelled: an extraction that finished meanwhile stands, with its run.
    cancelled = store.cancel_if_active(ObjectRef.from_file_url(row.file_url))
    if cancelled is None:
        now = store.get(row.id)
        raise JobStateError(f"job {row.id} became {now.status.value} before it could be cancelled: nothing to cancel")
    failures = {
        run_id: reason
        for run_id in run_ids
        if (reason := terminate_run(webserver, run_id, start_wait_seconds=start_wait_seconds)) is not None
    }
    with contextlib.suppress(DagsterApiError):  # the row and the runs are the cancellation; this is the UI's note
        report_observation(webserver, cancelled.partition_key, _CANCELLED_NOTE + jobs_show_command(cancelled.id))
    return CancelOutcome(cancelled, [r for r in run_ids if r not in failures], failures)
