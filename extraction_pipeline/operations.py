"""Operator actions on extraction jobs — retry, bulk re-extraction, cancel, stats — through the running Dagster.

Retries and cancellations go through the webserver's GraphQL API (``EXTRACTION_DAGSTER_URL``, default
http://127.0.0.1:3000/graphql), never a side path, so every run they start or stop is an ordinary run of the
instance: queued under its concurrency limits, visible in the UI, monitored, and tagged like the sensor's runs.

- ``retry_job``: one run of the job's partition (``launchRun`` of ``extract_files`` with a ``dagster/partition``
  tag, what the UI does for one partition); the row becomes ``pending`` for that run.
- ``retry_jobs_with_status``: one backfill of ``extract_files`` (``launchPartitionBackfill``) over every row with
  a status, e.g. all ``failed`` ones, or all ``completed`` ones after an extractor upgrade.

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
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from extraction_pipeline import settings
from extraction_pipeline.errors import ExtractionError
from extraction_pipeline.names import (
    ASSET_NAME,
    JOB_BUCKET_METADATA_KEY,
    JOB_NAME,
    MAX_RUNTIME_TAG,
    PARTITION_TAG,
    TAG_FILE,
    TAG_FORMAT,
    TAG_REASON,
    jobs_show_command,
)
from extraction_pipeline.objects import ObjectRef, ObjectVersion
from extraction_pipeline.s3 import head_object
from extraction_pipeline.store import JobStats, JobStatus, JobStore, StoredJob
from extraction_pipeline.store.rows import JobNotFoundError

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


class WrongInstanceError(OperationError):
    """The webserver belongs to an instance that does not extract this file (or has no extraction asset)."""


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


_JOB_METADATA_QUERY = """
query ExtractionJobMetadata($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline { metadataEntries { label ... on TextMetadataEntry { text } } }
    ... on Error { message }
  }
}
"""

_PARTITION_KEYS_QUERY = """
query ExtractionPartitionKeys($assetKey: AssetKeyInput!, $limit: Int!, $cursor: String) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      partitionKeyConnection(limit: $limit, ascending: true, cursor: $cursor) { results cursor hasMore }
    }
  }
}
"""
_PARTITION_PAGE = 10_000
_PARTITION_SET_SUFFIX = "_partition_set"  # Dagster's name for a partitioned job's partition set


@dataclass(frozen=True)
class AssetJob:
    """Where the extraction job lives in the running instance, and the bucket its code location watches."""

    location_name: str
    repository_name: str
    job_name: str
    bucket: str | None = None  # None: an older code location that does not say

    def selector(self) -> dict[str, Any]:
        return {
            "repositoryLocationName": self.location_name,
            "repositoryName": self.repository_name,
            "jobName": self.job_name,
            "assetSelection": [{"path": [ASSET_NAME]}],
        }

    def partition_set_selector(self) -> dict[str, Any]:
        return {
            "partitionSetName": f"{self.job_name}{_PARTITION_SET_SUFFIX}",
            "repositorySelector": {
                "repositoryName": self.repository_name,
                "repositoryLocationName": self.location_name,
            },
        }


def find_asset_job(webserver: DagsterWebserver) -> AssetJob:
    """The ``extract_files`` job of the instance behind ``webserver`` (or the implicit asset job of an older one)."""
    data = webserver.execute(_ASSET_JOB_QUERY, {"assetKey": {"path": [ASSET_NAME]}})
    node = data["assetNodeOrError"]
    if node["__typename"] != "AssetNode":
        raise WrongInstanceError(
            f"asset {ASSET_NAME} is not loaded in the Dagster instance at {webserver.url} "
            f"({node.get('message', node['__typename'])}): is the extraction_pipeline code location loaded there?"
        )
    repository = node["repository"]
    location, repository_name = repository["location"]["name"], repository["name"]
    if JOB_NAME not in node["jobNames"]:
        implicit = [name for name in node["jobNames"] if name.startswith("__ASSET_JOB")] or node["jobNames"]
        return AssetJob(location, repository_name, implicit[0])
    selector = {"repositoryLocationName": location, "repositoryName": repository_name, "pipelineName": JOB_NAME}
    job = _result(webserver.execute(_JOB_METADATA_QUERY, {"selector": selector}), "pipelineOrError", "Pipeline")
    metadata = {entry["label"]: entry.get("text") for entry in job["metadataEntries"]}
    return AssetJob(location, repository_name, JOB_NAME, metadata.get(JOB_BUCKET_METADATA_KEY))


def _partition_pages(webserver: DagsterWebserver) -> Iterator[list[str]]:
    """The instance's partition keys of the asset, a page at a time (an instance may hold ~100,000 files)."""
    cursor: str | None = None
    while True:
        variables = {"assetKey": {"path": [ASSET_NAME]}, "limit": _PARTITION_PAGE, "cursor": cursor}
        page = webserver.execute(_PARTITION_KEYS_QUERY, variables)["assetNodeOrError"].get("partitionKeyConnection")
        if not page:
            return
        yield page["results"]
        if not page["hasMore"]:
            return
        cursor = page["cursor"]


def instance_has_partition(webserver: DagsterWebserver, partition_key: str) -> bool:
    return any(partition_key in page for page in _partition_pages(webserver))


def instance_partition_keys(webserver: DagsterWebserver) -> set[str]:
    return {key for page in _partition_pages(webserver) for key in page}


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


def launch_backfill(webserver: DagsterWebserver, job: AssetJob, partition_keys: list[str], title: str) -> str:
    """One backfill of ``job`` over ``partition_keys`` (batched by the asset's backfill policy); returns its id."""
    params: dict[str, Any] = {
        "partitionNames": partition_keys,
        "tags": _tags(
            {
                TAG_REASON: RETRY_REASON,
                MAX_RUNTIME_TAG: str(settings.batch_max_runtime_seconds(settings.backfill_batch_size())),
            }
        ),
        "title": title,
    }
    if job.job_name == JOB_NAME:
        params["selector"] = job.partition_set_selector()
    else:  # an older code location without the named job: an asset backfill
        params["assetSelection"] = [{"path": [ASSET_NAME]}]
    data = webserver.execute(_LAUNCH_BACKFILL, {"backfillParams": params})
    return _result(data, "launchPartitionBackfill", "LaunchBackfillSuccess")["backfillId"]


_REPORT_OBSERVATION = """
mutation ReportCancelled($eventParams: ReportRunlessAssetEventsParams!) {
  reportRunlessAssetEvents(eventParams: $eventParams) {
    __typename
    ... on ReportRunlessAssetEventsSuccess { assetKey { path } }
    ... on Error { message }
  }
}
"""


def report_cancelled(webserver: DagsterWebserver, row: StoredJob) -> None:
    """An observation on the file's partition: a cancelled file is told apart from one that never ran."""
    params = {
        "eventType": "ASSET_OBSERVATION",
        "assetKey": {"path": [ASSET_NAME]},
        "partitionKeys": [row.partition_key],
        "description": f"cancelled by an operator (`extraction-pipeline jobs cancel`); {jobs_show_command(row.id)}",
    }
    data = webserver.execute(_REPORT_OBSERVATION, {"eventParams": params})
    _result(data, "reportRunlessAssetEvents", "ReportRunlessAssetEventsSuccess")


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
    job_def = find_asset_job(webserver)
    check_instance_owns(webserver, job_def, row)
    current = _current_object(s3_client, row)
    run_id = launch_partition_run(webserver, job_def, row)
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
    backfill_id = launch_backfill(webserver, job_def, keys, title=f"re-extract {len(keys)} {status.value} job(s)")
    reset = store.reset_status_to_pending([job_id for job_id, _key in owned], from_status=status)
    return BulkRetryOutcome(status, backfill_id, keys, reset, skipped=len(jobs) - len(owned))


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
    with contextlib.suppress(DagsterApiError):  # the row and the runs are the cancellation; this is the UI's note
        report_cancelled(webserver, cancelled)
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
