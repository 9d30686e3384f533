"""The HTTP API under test: a real uvicorn server on 127.0.0.1 (a free port, in a thread of the test process), the
store of the test, S3 on the moto server, and a Dagster webserver that is either scripted, unreachable or not one.

The scripted webserver answers the GraphQL operations of ``operations`` the way a running instance that owns
the test's bucket does; the real-instance path of retry and cancel is covered by ``test_operations`` (the API
calls the very same functions).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from extraction_pipeline.api import ApiAuth, ApiContext, create_app
from extraction_pipeline.api.auth import parse_tokens
from extraction_pipeline.dagster_api import DagsterWebserver
from extraction_pipeline.defs.extraction.partitions import partition_key_for
from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.extractors.schema import (
    Dimension,
    DimensionType,
    ExtractionResult,
    FileFormat,
    SourceInfo,
    Table,
    TitleBlock,
)
from extraction_pipeline.names import JOB_BUCKET_METADATA_KEY, JOB_NAME
from extraction_pipeline.objects import ObjectRef, ObjectVersion, RecordLink
from extraction_pipeline.store import JobStore, NewObject, StoredJob
from extraction_pipeline.store.models import utcnow
from extraction_pipeline_tests.conftest import s3_client
from extraction_pipeline_tests.live_stack import free_port, wait_for
from extraction_pipeline_tests.rows import complete_row

READ_WRITE = "rw-secret-token"
READ_ONLY = "ro-secret-token"
TOKENS = f"{READ_WRITE}, {READ_ONLY}:ro"
_OPERATION = re.compile(r"\b(?:query|mutation)\s+(\w+)")


@dataclass
class ScriptedDagster(DagsterWebserver):
    """A Dagster instance that owns ``bucket`` and every partition in ``partitions``; it records what it was asked."""

    bucket: str = ""
    partitions: set[str] = field(default_factory=set)
    active_runs: list[str] = field(default_factory=list)
    refuse_termination: bool = False
    launched: list[dict[str, Any]] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__("http://scripted.invalid/graphql")

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        variables = variables or {}
        match = _OPERATION.search(query)
        name = match.group(1) if match else query.strip()
        answer = getattr(self, f"_answer_{name}", None)
        if answer is None:
            raise AssertionError(f"the scripted Dagster does not know the operation {name!r}")
        return answer(variables)

    def _answer_ExtractionAssetJob(self, _variables: dict[str, Any]) -> dict[str, Any]:
        repository = {"name": "__repository__", "location": {"name": "extraction_pipeline"}}
        return {"assetNodeOrError": {"__typename": "AssetNode", "jobNames": [JOB_NAME], "repository": repository}}

    def _answer_ExtractionJobMetadata(self, _variables: dict[str, Any]) -> dict[str, Any]:
        entries = [{"label": JOB_BUCKET_METADATA_KEY, "text": self.bucket}]
        return {"pipelineOrError": {"__typename": "Pipeline", "metadataEntries": entries}}

    def _answer_ExtractionPartitionKeys(self, _variables: dict[str, Any]) -> dict[str, Any]:
        page = {"results": sorted(self.partitions), "cursor": "end", "hasMore": False}
        return {"assetNodeOrError": {"partitionKeyConnection": page}}

    def _answer_RunsOfPartition(self, _variables: dict[str, Any]) -> dict[str, Any]:
        runs = [{"runId": run_id, "status": "QUEUED"} for run_id in self.active_runs]
        return {"runsOrError": {"__typename": "Runs", "results": runs}}

    def _answer_ExtractionRunStatus(self, variables: dict[str, Any]) -> dict[str, Any]:
        status = "QUEUED" if variables["runId"] in self.active_runs else "CANCELED"
        return {"runOrError": {"__typename": "Run", "status": status}}

    def _answer_TerminateExtractionRun(self, variables: dict[str, Any]) -> dict[str, Any]:
        run_id = variables["runId"]
        if self.refuse_termination:
            message = f"Run {run_id} could not be terminated due to having status STARTING."
            answer = {"__typename": "TerminateRunFailure", "message": message, "run": {"status": "QUEUED"}}
            return {"terminateRun": answer}
        self.terminated.append(run_id)
        return {"terminateRun": {"__typename": "TerminateRunSuccess", "run": {"status": "CANCELED"}}}

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """What dagster-graphql's client would send for ``method``: a launch is recorded in the shape of its
        ``executionParams``, a termination answered like Dagster."""
        if method == "submit_job_execution":
            tags = [{"key": key, "value": value} for key, value in kwargs["tags"].items()]
            self.launched.append({"executionParams": {"executionMetadata": {"tags": tags}}})
            return f"run-{len(self.launched)}"
        raise AssertionError(f"the scripted Dagster does not know the client call {method!r}")

    def _answer_ReportObservation(self, _variables: dict[str, Any]) -> dict[str, Any]:
        return {"reportRunlessAssetEvents": {"__typename": "ReportRunlessAssetEventsSuccess"}}

    def _answer_ExtractionHealth(self, _variables: dict[str, Any]) -> dict[str, Any]:
        return {"version": "scripted"}


@contextmanager
def serving(context: ApiContext, auth: ApiAuth) -> Iterator[str]:
    """``create_app`` served by uvicorn on a free loopback port; yields its base URL."""
    with serving_app(create_app(context, auth)) as url:
        yield url


@contextmanager
def serving_app(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="api-under-test", daemon=True)
    thread.start()
    try:
        wait_for("the API server", lambda: server.started, 30.0, interval=0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@dataclass
class Api:
    url: str
    store: JobStore
    bucket: str
    dagster: ScriptedDagster
    s3: Any

    def client(self, token: str | None = READ_WRITE) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)


@contextmanager
def api_for(
    store: JobStore, bucket: str, moto_endpoint: str, *, webserver: Any = None, auth: ApiAuth | None = None
) -> Iterator[Api]:
    """The API over ``store`` and ``bucket`` with the test tokens (or ``auth``), a scripted Dagster unless
    ``webserver`` is given (a factory, e.g. one returning a client of an unreachable URL)."""
    dagster = ScriptedDagster(bucket=bucket)
    context = ApiContext(store=store, bucket=bucket, webserver=webserver or (lambda: dagster),
                         s3_client=lambda: s3_client(moto_endpoint))  # fmt: skip
    with serving(context, auth or ApiAuth(parse_tokens(TOKENS))) as url:
        yield Api(url, store, bucket, dagster, s3_client(moto_endpoint))


def sample_result(filename: str) -> dict[str, Any]:
    result = ExtractionResult(
        format=FileFormat.PDF,
        extractor_version="pdf/test",
        source=SourceInfo(filename=filename, size=10, sha256="0" * 64),
        title_block=TitleBlock(drawing_number="DWG-7", title="Bracket", material="S235"),
        dimensions=[
            Dimension(value=12.0, tolerance_plus=0.1, tolerance_minus=0.1, dimension_type=DimensionType.DIAMETER),
            Dimension(value=40.0, fit="H7", page=1),
        ],
        tables=[Table(headers=["POS", "QTY"], rows=[["1", "2"]], num_rows=1, num_columns=2)],
        warnings=["page 2: no text layer"],
    )
    return result.to_json_dict()


def register(
    api: Api, key: str, *, status: str = "pending", link: RecordLink | None = None, etag: str = "e1"
) -> StoredJob:
    """A row as the sensor registers it for ``key`` in the API's bucket (the object uploaded too), then moved to
    ``status`` as a run would."""
    ref = ObjectRef(api.bucket, key)
    api.s3.put_object(Bucket=api.bucket, Key=key, Body=b"%PDF-1.4 test")
    head = api.s3.head_object(Bucket=api.bucket, Key=key)
    version = ObjectVersion(ref, head["ETag"].strip('"'), 13, utcnow(), link or RecordLink(), {})
    new = NewObject(version, partition_key_for(ref), key.rsplit(".", 1)[-1])
    api.store.upsert_pending([new], max_retries=3)
    api.dagster.partitions.add(new.partition_key)
    if status == "completed":
        complete_row(api.store, ref, result=sample_result(ref.filename), file_format="pdf",
                     extractor_version="pdf/test", duration_ms=1200)  # fmt: skip
    elif status == "failed":
        api.store.mark_failed(ref, message="not a PDF\nsecond line", kind=ErrorKind.PERMANENT, attempts=1)
    elif status == "processing":
        api.store.mark_processing(ref, run_id="run-0", attempt=1)
    return api.store.get(ref.file_url)


def unreachable_webserver() -> DagsterWebserver:
    return DagsterWebserver(f"http://127.0.0.1:{free_port()}/graphql", timeout_seconds=5)
