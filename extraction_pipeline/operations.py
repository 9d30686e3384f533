"""Operator actions on extraction jobs — retry, bulk re-extraction, cancel, stats — through the running Dagster.

Retries and cancellations go through the webserver's GraphQL API (``EXTRACTION_DAGSTER_URL``, default
http://127.0.0.1:3000/graphql), never a side path, so every run they start or stop is an ordinary run of the
instance: queued under its concurrency limits, visible in the UI, monitored, and tagged like the sensor's runs.

- ``retry_job``: one run of the job's partition (``launchRun`` of the asset job with a ``dagster/partition`` tag,
  what the UI does for one partition); the row becomes ``pending`` for that run.
- ``retry_jobs_with_status``: one asset backfill (``launchPartitionBackfill``) over every row with a status,
  e.g. all ``failed`` ones, or all ``completed`` ones after an extractor upgrade.
- ``cancel_job``: the row becomes ``cancelled`` and the partition's queued/started runs are terminated.

Retries launch first and then move the row with a compare-and-set, so a launch that fails leaves the row as it
was, and a run that starts quickly is never overwritten. Their runs carry ``extraction/reason``, so the asset
refuses one that starts after the operator cancelled the job again.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

from extraction_pipeline.errors import ExtractionError
from extraction_pipeline.names import ASSET_NAME, PARTITION_TAG, TAG_FILE, TAG_FORMAT, TAG_REASON
from extraction_pipeline.objects import ObjectRef, ObjectVersion
from extraction_pipeline.s3 import head_object
from extraction_pipeline.store import JobStats, JobStatus, JobStore, StoredJob
from extraction_pipeline.store.store import JobNotFoundError

DAGSTER_URL_ENV = "EXTRACTION_DAGSTER_URL"
DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000/graphql"
RETRY_REASON = "operator-retry"
RETRYABLE_STATUSES = frozenset({JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.COMPLETED})
CANCELLABLE_STATUSES = frozenset({JobStatus.PENDING, JobStatus.RETRYING, JobStatus.PROCESSING})
# Runs that may still extract: cancelling a job terminates these.
ACTIVE_RUN_STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED")
_TAG_VALUE_MAX = 200
_HTTP_TIMEOUT_SECONDS = 30.0


# --- errors (the CLI turns each into exit code 2 and its message) -----------------------------------------
class OperationError(Exception):
    """An operator action that cannot be done; the message says why."""


class UnknownJobError(OperationError):
    """No row has that id or file_url."""


class JobStateError(OperationError):
    """The job is in a state the action does not apply to."""


class WebserverUnreachableError(OperationError):
    """Nothing answers at the GraphQL URL."""


class DagsterApiError(OperationError):
    """The webserver answered, but refused or failed the request."""


# --- the webserver's GraphQL API ---------------------------------------------------------------------------
def dagster_url() -> str:
    return os.environ.get(DAGSTER_URL_ENV) or DEFAULT_DAGSTER_URL


class DagsterWebserver:
    """A small GraphQL client for the running webserver (stdlib HTTP: no client library to keep in step)."""

    def __init__(self, url: str | None = None, timeout_seconds: float = _HTTP_TIMEOUT_SECONDS) -> None:
        self.url = url or dagster_url()
        self.timeout_seconds = timeout_seconds

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        status, raw = self._post(json.dumps({"query": query, "variables": variables or {}}).encode())
        try:
            payload = json.loads(raw)
        except ValueError as error:
            raise DagsterApiError(
                f"{self.url} answered HTTP {status} without GraphQL JSON: is it the webserver's /graphql URL?"
            ) from error
        if not isinstance(payload, dict):
            raise DagsterApiError(f"{self.url} answered HTTP {status} without GraphQL JSON: {raw[:200]!r}")
        if payload.get("errors"):  # GraphQL errors come with HTTP 200 or 400
            messages = "; ".join(str(e.get("message")) for e in payload["errors"])
            raise DagsterApiError(f"GraphQL error from {self.url}: {messages}")
        if status != 200 or payload.get("data") is None:
            raise DagsterApiError(f"Dagster webserver at {self.url} answered HTTP {status}: {raw[:500]!r}")
        return payload["data"]

    def _post(self, body: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:  # an answer after all: execute() reads its body
            return error.code, error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise WebserverUnreachableError(
                f"cannot reach the Dagster webserver at {self.url} ({reason}): is `dagster dev`/the webserver "
                f"running at {self.url}? Set {DAGSTER_URL_ENV} to its /graphql URL."
            ) from error


def _result(data: dict[str, Any], field_name: str, success_type: str) -> dict[str, Any]:
    """The mutation/query result if it is ``success_type``; a typed error with Dagster's message otherwise."""
    result = data[field_name]
    if result.get("__typename") != success_type:
        message = result.get("message") or json.dumps(result)
        raise DagsterApiError(f"{field_name} failed ({result.get('__typename')}): {message}")
    return result


_ASSET_JOB_QUERY = """
query ExtractionAssetJob($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode { jobNames repository { name location { name } } }
    ... on Error { message }
  }
}
"""


@dataclass(frozen=True)
class AssetJob:
    """Where the extraction asset lives in the running instance, as ``launchRun`` wants it."""

    location_name: str
    repository_name: str
    job_name: str

    def selector(self) -> dict[str, Any]:
        return {
            "repositoryLocationName": self.location_name,
            "repositoryName": self.repository_name,
            "jobName": self.job_name,
            "assetSelection": [{"path": [ASSET_NAME]}],
        }


def find_asset_job(webserver: DagsterWebserver) -> AssetJob:
    data = webserver.execute(_ASSET_JOB_QUERY, {"assetKey": {"path": [ASSET_NAME]}})
    node = data["assetNodeOrError"]
    if node["__typename"] != "AssetNode":
        raise DagsterApiError(
            f"asset {ASSET_NAME} is not loaded in the Dagster instance at {webserver.url} "
            f"({node.get('message', node['__typename'])}): is the extraction_pipeline code location loaded?"
        )
    # The implicit job that can materialize any asset of the location: what the UI launches partitions with.
    job_names = [name for name in node["jobNames"] if name.startswith("__ASSET_JOB")] or node["jobNames"]
    repository = node["repository"]
    return AssetJob(repository["location"]["name"], repository["name"], job_names[0])


_LAUNCH_RUN = """
mutation RetryExtraction($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on Error { message }
  }
}
"""

_LAUNCH_BACKFILL = """
mutation ReextractPartitions($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""

_ACTIVE_RUNS = """
query RunsOfPartition($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status } }
    ... on Error { message }
  }
}
"""

_TERMINATE_RUN = """
mutation CancelExtractionRun($runId: String!) {
  terminateRun(runId: $runId) {
    __typename
    ... on TerminateRunSuccess { run { runId status } }
    ... on TerminateRunFailure { message }
    ... on Error { message }
  }
}
"""


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in tags.items()]


def launch_partition_run(webserver: DagsterWebserver, job: AssetJob, row: StoredJob) -> str:
    """Queue one run materializing ``row``'s partition; returns its run id."""
    tags = {
        PARTITION_TAG: row.partition_key,
        TAG_FORMAT: row.format or "unknown",
        TAG_FILE: row.filename[:_TAG_VALUE_MAX],
        TAG_REASON: RETRY_REASON,
    }
    params = {"selector": job.selector(), "runConfigData": {}, "executionMetadata": {"tags": _tags(tags)}}
    data = webserver.execute(_LAUNCH_RUN, {"executionParams": params})
    return _result(data, "launchRun", "LaunchRunSuccess")["run"]["runId"]


def launch_backfill(webserver: DagsterWebserver, partition_keys: list[str], title: str) -> str:
    """One asset backfill over ``partition_keys`` (one run per partition); returns its id."""
    params = {
        "assetSelection": [{"path": [ASSET_NAME]}],
        "partitionNames": partition_keys,
        "tags": _tags({TAG_REASON: RETRY_REASON}),
        "title": title,
    }
    data = webserver.execute(_LAUNCH_BACKFILL, {"backfillParams": params})
    return _result(data, "launchPartitionBackfill", "LaunchBackfillSuccess")["backfillId"]


def active_runs_of_partition(webserver: DagsterWebserver, partition_key: str) -> list[str]:
    run_filter = {"tags": _tags({PARTITION_TAG: partition_key}), "statuses": list(ACTIVE_RUN_STATUSES)}
    data = webserver.execute(_ACTIVE_RUNS, {"filter": run_filter})
    return [run["runId"] for run in _result(data, "runsOrError", "Runs")["results"]]


def terminate_run(webserver: DagsterWebserver, run_id: str) -> str | None:
    """Ask Dagster to terminate ``run_id``; None on success, else Dagster's reason."""
    result = webserver.execute(_TERMINATE_RUN, {"runId": run_id})["terminateRun"]
    return None if result["__typename"] == "TerminateRunSuccess" else result.get("message", result["__typename"])


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
    current = _current_object(s3_client, row)
    run_id = launch_partition_run(webserver, find_asset_job(webserver), row)
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


def retry_jobs_with_status(store: JobStore, status: JobStatus, *, webserver: DagsterWebserver) -> BulkRetryOutcome:
    """Re-extract every job with ``status`` (e.g. all failed ones after a fix) as one backfill."""
    if status not in RETRYABLE_STATUSES:
        allowed = ", ".join(sorted(s.value for s in RETRYABLE_STATUSES))
        raise JobStateError(f"cannot re-extract {status.value} jobs in bulk (only {allowed})")
    jobs = store.partition_keys_with_status(status)
    if not jobs:
        return BulkRetryOutcome(status, None)
    keys = list(dict.fromkeys(key for _id, key in jobs))
    backfill_id = launch_backfill(webserver, keys, title=f"re-extract {len(keys)} {status.value} job(s)")
    reset = store.reset_status_to_pending([job_id for job_id, _key in jobs], from_status=status)
    return BulkRetryOutcome(status, backfill_id, keys, reset)


@dataclass(frozen=True)
class CancelOutcome:
    job: StoredJob
    terminated_run_ids: list[str]
    termination_failures: dict[str, str]  # run id → Dagster's reason


def cancel_job(store: JobStore, job: str, *, webserver: DagsterWebserver) -> CancelOutcome:
    """Cancel a pending/retrying/processing job: the row becomes ``cancelled``, its runs are terminated."""
    row = find_job(store, job)
    if row.status not in CANCELLABLE_STATUSES:
        raise JobStateError(
            f"job {row.id} is {row.status.value}: only pending, retrying or processing jobs can be cancelled"
        )
    # Ask Dagster first: an unreachable webserver then leaves the row untouched.
    run_ids = active_runs_of_partition(webserver, row.partition_key)
    # The row first: a sensor run of this partition that starts meanwhile sees `cancelled` and stops.
    cancelled = store.mark_cancelled(ObjectRef.from_file_url(row.file_url))
    failures = {run_id: reason for run_id in run_ids if (reason := terminate_run(webserver, run_id)) is not None}
    return CancelOutcome(cancelled, [r for r in run_ids if r not in failures], failures)


# --- stats ---------------------------------------------------------------------------------------------------
def stats_dict(stats: JobStats) -> dict[str, Any]:
    return asdict(stats)


def stats_table(stats: JobStats) -> str:
    """Counts per status and per format × status, failure rate and p50/p95 duration, as aligned text."""
    statuses = [s.value for s in JobStatus]
    lines = [
        f"total {stats.total}   failure rate {stats.failure_rate:.1%}   "
        f"p50 {_ms(stats.p50_duration_ms)}   p95 {_ms(stats.p95_duration_ms)}",
        "",
        f"{'format':<10}" + "".join(f"{name:>12}" for name in statuses),
    ]
    for file_format, counts in sorted(stats.by_format.items()):
        lines.append(f"{file_format:<10}" + "".join(f"{counts.get(name, 0):>12}" for name in statuses))
    lines.append(f"{'all':<10}" + "".join(f"{stats.by_status.get(name, 0):>12}" for name in statuses))
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return f"{value:.0f} ms" if value is not None else "-"
