"""The one module that talks to the running Dagster instance, through its webserver's GraphQL API.

``DagsterGraphQLClient`` (dagster-graphql) launches a run, terminates one and reads a run's status; the calls it
has no method for (the asset's job and partitions, backfills, runs of a partition, runless observations) are
GraphQL documents sent over the same ``gql`` transport. Every failure becomes one of three typed errors:
``WebserverUnreachableError`` (nothing answers), ``DagsterApiError`` (it answered and refused or failed) and
``WrongInstanceError`` (it is not the instance that extracts these files).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportConnectionFailed, TransportError, TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

from extraction_pipeline import settings
from extraction_pipeline.errors import OperationError
from extraction_pipeline.names import (
    ACTIVE_RUN_STATUSES,
    ASSET_NAME,
    JOB_BUCKET_METADATA_KEY,
    JOB_NAME,
    MAX_RUNTIME_TAG,
    PARTITION_TAG,
    TAG_VALUE_MAX,
)

if TYPE_CHECKING:
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient

_HTTP_TIMEOUT_SECONDS = 30
_PARTITION_PAGE = 10_000
_BACKFILL_PAGE = 100
_PARTITION_SET_SUFFIX = "_partition_set"  # Dagster's name for a partitioned job's partition set
FINISHED_BACKFILL_STATUSES = frozenset({"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"})


class WebserverUnreachableError(OperationError):
    """Nothing answers at the GraphQL URL."""


class DagsterApiError(OperationError):
    """The webserver answered, but refused or failed the request."""


class WrongInstanceError(OperationError):
    """The webserver belongs to an instance that does not extract this file (or has no extraction asset)."""


def dagster_url() -> str:
    return os.environ.get(settings.DAGSTER_URL_ENV) or settings.DEFAULT_DAGSTER_URL


class DagsterWebserver:
    """The running webserver: ``client`` for the calls dagster-graphql covers, ``execute`` for the others."""

    def __init__(self, url: str | None = None, timeout_seconds: int = _HTTP_TIMEOUT_SECONDS) -> None:
        self.url = url or dagster_url()
        self._transport = RequestsHTTPTransport(url=self.url, timeout=timeout_seconds)
        self._gql = Client(transport=self._transport)

    @cached_property
    def client(self) -> DagsterGraphQLClient:
        """dagster-graphql's client on the same transport; imported on first use, since it imports all of Dagster
        (seconds a query-only command, such as watching a backfill, need not pay)."""
        from dagster_graphql import DagsterGraphQLClient

        return DagsterGraphQLClient(urlsplit(self.url).hostname or self.url, transport=self._transport)

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of one GraphQL request, or a typed error saying what went wrong where."""
        try:
            return self._gql.execute(GraphQLRequest(query, variable_values=variables or {}))
        except TransportQueryError as error:  # GraphQL errors (HTTP 200 or 400)
            messages = "; ".join(str(e.get("message")) for e in error.errors or []) or str(error)
            raise DagsterApiError(f"GraphQL error from {self.url}: {messages}") from error
        except Exception as error:
            raise self._classify(error) from error

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``DagsterGraphQLClient.<method>``, its errors turned into this module's."""
        from dagster_graphql import DagsterGraphQLClientError

        try:
            return getattr(self.client, method)(*args, **kwargs)
        except DagsterGraphQLClientError as error:
            if error.__cause__ is not None:  # the transport failed; Dagster's message only repeats the query
                raise self._classify(error.__cause__) from error
            detail = ": ".join(str(arg) for arg in error.args if arg)
            raise DagsterApiError(f"{method} failed at {self.url} ({detail})") from error

    def _classify(self, error: BaseException) -> OperationError:
        if _caused_by(error, (TransportConnectionFailed, requests.ConnectionError, requests.Timeout)):
            return self.unreachable(error)
        if isinstance(error, TransportError):  # an HTTP error status, or an answer that is not GraphQL JSON
            return DagsterApiError(
                f"{self.url} answered without GraphQL JSON ({error}): is it the webserver's /graphql URL?"
            )
        return DagsterApiError(f"request to the Dagster webserver at {self.url} failed: {error}")

    def unreachable(self, error: BaseException) -> WebserverUnreachableError:
        return WebserverUnreachableError(
            f"cannot reach the Dagster webserver at {self.url} ({_root(error)}): is `dagster dev`/the webserver "
            f"running at {self.url}? Set {settings.DAGSTER_URL_ENV} to its /graphql URL."
        )

    def ui_url(self, path: str) -> str:
        """A page of the UI (the GraphQL URL without ``/graphql``)."""
        return f"{self.url.removesuffix('/').removesuffix('/graphql')}/{path.lstrip('/')}"


def _caused_by(error: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, types):
            return True
        current = current.__cause__ or current.__context__
    return False


def _root(error: BaseException) -> BaseException:
    """The innermost cause (e.g. ``[Errno 111] Connection refused`` under the HTTP library's wrappers)."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return error


def _result(data: dict[str, Any], field_name: str, success_type: str) -> dict[str, Any]:
    """The mutation/query result if it is ``success_type``; a typed error with Dagster's message otherwise."""
    result = data[field_name]
    if result.get("__typename") != success_type:
        message = result.get("message") or json.dumps(result)
        raise DagsterApiError(f"{field_name} failed ({result.get('__typename')}): {message}")
    return result


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in tags.items()]


# --- the extraction job and its partitions --------------------------------------------------------------------
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


@dataclass(frozen=True)
class AssetJob:
    """Where the extraction job lives in the running instance, and the bucket its code location watches."""

    location_name: str
    repository_name: str
    job_name: str
    bucket: str | None = None  # None: an older code location that does not say

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


def partition_pages(webserver: DagsterWebserver) -> Iterator[list[str]]:
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
    return any(partition_key in page for page in partition_pages(webserver))


def instance_partition_keys(webserver: DagsterWebserver) -> set[str]:
    return {key for page in partition_pages(webserver) for key in page}


# --- runs ------------------------------------------------------------------------------------------------------
_ACTIVE_RUNS = """
query RunsOfPartition($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status } }
    ... on Error { message }
  }
}
"""


def launch_partition_run(webserver: DagsterWebserver, job: AssetJob, partition_key: str, tags: dict[str, str]) -> str:
    """Queue one run materializing ``partition_key`` (what the UI does for one partition); returns its run id."""
    return webserver.call(
        "submit_job_execution",
        job.job_name,
        repository_location_name=job.location_name,
        repository_name=job.repository_name,
        run_config={},
        tags={PARTITION_TAG: partition_key, **tags},
        asset_selection=[ASSET_NAME],
    )


def active_runs_of_partition(webserver: DagsterWebserver, partition_key: str) -> list[str]:
    run_filter = {"tags": tag_list({PARTITION_TAG: partition_key}), "statuses": list(ACTIVE_RUN_STATUSES)}
    data = webserver.execute(_ACTIVE_RUNS, {"filter": run_filter})
    return [run["runId"] for run in _result(data, "runsOrError", "Runs")["results"]]


_RUN_STATUS = """
query ExtractionRunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
    ... on Error { message }
  }
}
"""

_TERMINATE_RUN = """
mutation TerminateExtractionRun($runId: String!, $policy: TerminateRunPolicy!) {
  terminateRun(runId: $runId, terminatePolicy: $policy) {
    __typename
    ... on TerminateRunSuccess { run { status } }
    ... on TerminateRunFailure { message run { status } }
    ... on Error { message }
  }
}
"""

# What a terminate request can do with a run in each status (Dagster 1.13's ``terminateRun``): the run
# coordinator takes a QUEUED run off the queue and marks it CANCELED; a STARTED one is interrupted (CANCELING,
# then CANCELED when its worker has stopped). A run between the two (NOT_STARTED, STARTING: its worker process is
# starting) is refused by the safe policy, so it is waited for until it has started.
_SAFE_TO_TERMINATE = frozenset({"QUEUED", "STARTED"})
_STARTING = frozenset({"NOT_STARTED", "STARTING"})
_ENDING_AS_CANCELED = frozenset({"CANCELING", "CANCELED"})
START_WAIT_SECONDS = 30.0  # a run worker's start (process, code loading) takes seconds; minutes would be a hang
_POLL_SECONDS = 0.25


def run_status_name(webserver: DagsterWebserver, run_id: str) -> str:
    """The run's ``DagsterRunStatus`` value (e.g. ``"STARTING"``), read over GraphQL."""
    return _result(webserver.execute(_RUN_STATUS, {"runId": run_id}), "runOrError", "Run")["status"]


def terminate_run(
    webserver: DagsterWebserver, run_id: str, *, start_wait_seconds: float = START_WAIT_SECONDS
) -> str | None:
    """Stop ``run_id`` whatever its state; None once it is CANCELING/CANCELED, else why it is not.

    QUEUED and STARTED runs are terminated safely. A starting run is waited for (up to ``start_wait_seconds``)
    and then terminated safely; one still starting after that is marked CANCELED at once, which a run worker
    that has not begun execution obeys (it starts nothing), and one that has is stopped by the run itself,
    since its file's job is cancelled. A run that finished meanwhile is reported as such.
    """
    deadline = time.monotonic() + start_wait_seconds
    status = run_status_name(webserver, run_id)
    while status in _STARTING and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        status = run_status_name(webserver, run_id)
    if status in _ENDING_AS_CANCELED:
        return None
    if status not in _SAFE_TO_TERMINATE | _STARTING:
        return f"run {run_id} had already ended ({status}) before it could be terminated"
    policy = "SAFE_TERMINATE" if status in _SAFE_TO_TERMINATE else "MARK_AS_CANCELED_IMMEDIATELY"
    result = webserver.execute(_TERMINATE_RUN, {"runId": run_id, "policy": policy})["terminateRun"]
    if result["__typename"] == "TerminateRunSuccess":
        return None
    # Refused: the run may have moved on meanwhile (started, been cancelled by the run itself, or finished).
    now = run_status_name(webserver, run_id)
    if now in _ENDING_AS_CANCELED:
        return None
    if now != status and now in _SAFE_TO_TERMINATE | _STARTING and time.monotonic() < deadline:
        return terminate_run(webserver, run_id, start_wait_seconds=deadline - time.monotonic())
    return f"{result.get('message') or result['__typename']} (run {run_id} is {now})"


def run_status(webserver: DagsterWebserver, run_id: str) -> DagsterRunStatus:
    return webserver.call("get_run_status", run_id)


# --- backfills -------------------------------------------------------------------------------------------------
_LAUNCH_BACKFILL = """
mutation LaunchExtractionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""

_BACKFILL_STATUS = """
query ExtractionBackfill($backfillId: String!, $withNames: Boolean!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill { status numPartitions partitionNames @include(if: $withNames) }
    ... on Error { message }
  }
}
"""

_REQUESTED_BACKFILLS = """
query UnfinishedBackfills($cursor: String, $limit: Int!) {
  partitionBackfillsOrError(status: REQUESTED, cursor: $cursor, limit: $limit) {
    __typename
    ... on PartitionBackfills { results { id partitionSetName assetSelection { path } partitionNames } }
    ... on Error { message }
  }
}
"""


def launch_backfill(
    webserver: DagsterWebserver,
    partition_keys: Sequence[str],
    *,
    title: str,
    tags: dict[str, str],
    job: AssetJob | None = None,
) -> str:
    """One backfill over ``partition_keys``, run in batches by the asset's backfill policy; returns its id.

    With ``job`` (the named ``extract_files``) it is a backfill of that job's partition set, else an asset
    backfill. Its runs carry ``dagster/max_runtime`` sized to a batch: each covers up to that many files.
    """
    run_tags = {**tags, MAX_RUNTIME_TAG: str(settings.batch_max_runtime_seconds(settings.backfill_batch_size()))}
    params: dict[str, Any] = {
        "partitionNames": list(partition_keys),
        "tags": tag_list(run_tags),
        "title": title[:TAG_VALUE_MAX],
    }
    if job is not None and job.job_name == JOB_NAME:
        params["selector"] = job.partition_set_selector()
    else:  # an asset backfill (also what an older code location without the named job gets)
        params["assetSelection"] = [{"path": [ASSET_NAME]}]
    data = webserver.execute(_LAUNCH_BACKFILL, {"backfillParams": params})
    return _result(data, "launchPartitionBackfill", "LaunchBackfillSuccess")["backfillId"]


def backfill_status(webserver: DagsterWebserver, backfill_id: str, *, with_names: bool = False) -> dict[str, Any]:
    """``status``, ``numPartitions`` (and ``partitionNames``) of a backfill."""
    data = webserver.execute(_BACKFILL_STATUS, {"backfillId": backfill_id, "withNames": with_names})
    result = data["partitionBackfillOrError"]
    if result.get("__typename") != "PartitionBackfill":
        raise DagsterApiError(f"no backfill {backfill_id!r} at {webserver.url}: {result.get('message', '')}".strip())
    return result


def backfill_url(webserver: DagsterWebserver, backfill_id: str) -> str:
    return webserver.ui_url(f"runs/b/{backfill_id}")


def partitions_of_unfinished_backfills(webserver: DagsterWebserver) -> set[str]:
    """Partitions of the extraction asset that a backfill not yet finished will extract (job or asset backfill)."""
    keys: set[str] = set()
    cursor: str | None = None
    while True:
        data = webserver.execute(_REQUESTED_BACKFILLS, {"cursor": cursor, "limit": _BACKFILL_PAGE})
        results = _result(data, "partitionBackfillsOrError", "PartitionBackfills")["results"]
        for backfill in results:
            assets = [entry["path"] for entry in backfill.get("assetSelection") or []]
            ours = [ASSET_NAME] in assets or backfill.get("partitionSetName") == f"{JOB_NAME}{_PARTITION_SET_SUFFIX}"
            if ours:
                keys.update(backfill.get("partitionNames") or [])
        if len(results) < _BACKFILL_PAGE:
            return keys
        cursor = results[-1]["id"]


# --- observations ----------------------------------------------------------------------------------------------
_REPORT_OBSERVATION = """
mutation ReportObservation($eventParams: ReportRunlessAssetEventsParams!) {
  reportRunlessAssetEvents(eventParams: $eventParams) {
    __typename
    ... on ReportRunlessAssetEventsSuccess { assetKey { path } }
    ... on Error { message }
  }
}
"""


def report_observation(webserver: DagsterWebserver, partition_key: str, description: str) -> None:
    """A runless observation on a file's partition (e.g. that an operator cancelled it)."""
    params = {
        "eventType": "ASSET_OBSERVATION",
        "assetKey": {"path": [ASSET_NAME]},
        "partitionKeys": [partition_key],
        "description": description,
    }
    data = webserver.execute(_REPORT_OBSERVATION, {"eventParams": params})
    _result(data, "reportRunlessAssetEvents", "ReportRunlessAssetEventsSuccess")
