"""`jobs retry` / `jobs cancel` / `jobs stats` against a real running Dagster: dagster-webserver + dagster-daemon.

One stack per module: the production dagster.yaml on a throw-away PostgreSQL database, the code location
loaded with ``-m extraction_pipeline.definitions``, S3 on the moto server and the jobs table on PostgreSQL.
The copy of dagster.yaml adds one tag limit of 0 so runs of ``held.dxf`` stay queued (something to cancel).
The CLI runs in this process (click's CliRunner), so coverage sees operations.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from click.testing import CliRunner, Result
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from extraction_pipeline.cli import main
from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.objects import ObjectRef, ObjectVersion
from extraction_pipeline.operations import DAGSTER_URL_ENV, RETRY_REASON, DagsterWebserver, OperationError
from extraction_pipeline.partitions import EXTRACTION_PARTITIONS_NAME, partition_key_for
from extraction_pipeline.store import JobStatus, JobStore, NewObject
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline.store.models import utcnow
from extraction_pipeline_tests.conftest import _fresh_postgres_database, s3_client
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.harness import Pipeline, pipeline_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HELD_FILE = "held.dxf"  # a tag limit of 0 keeps its runs queued
STARTUP_TIMEOUT_SECONDS = 120.0
RUN_TIMEOUT_SECONDS = 90.0
T = TypeVar("T")


@dataclass
class Stack:
    graphql_url: str
    instance: DagsterInstance
    store: JobStore
    env: dict[str, str]  # the code location's environment (and the CLI's)
    watched_bucket: str  # listed by the s3_upload_sensor
    side_bucket: str  # not listed: the tests alone decide what happens to its files
    s3: Any


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _instance_yaml(dagster_home: Path) -> None:
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config["concurrency"]["runs"]["tag_concurrency_limits"].append(
        {"key": "extraction/file", "value": HELD_FILE, "limit": 0}
    )
    config["run_coordinator"]["config"] = {"dequeue_interval_seconds": 1}  # the default 5 s only slows the test
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(config))


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _asset_loaded(graphql_url: str) -> bool:
    query = '{ assetNodeOrError(assetKey: {path: ["file_extraction"]}) { __typename } }'
    try:
        return DagsterWebserver(graphql_url).execute(query)["assetNodeOrError"]["__typename"] == "AssetNode"
    except OperationError:
        return False


def _stop(processes: list[subprocess.Popen]) -> None:
    """Stop the servers we started and the code servers they started (each in its own process group)."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for process in processes:  # code servers that outlived their parent
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, postgres_server_url: str, moto_endpoint: str) -> Iterator[Stack]:
    dagster_home = tmp_path_factory.mktemp("dagster_home")
    _instance_yaml(dagster_home)
    jobs_url = _fresh_postgres_database(postgres_server_url)
    upgrade_database(jobs_url)
    s3 = s3_client(moto_endpoint)
    watched, side = (f"{name}-{uuid.uuid4().hex[:10]}" for name in ("watched", "side"))
    for name in (watched, side):
        s3.create_bucket(Bucket=name)
    # On the bucket before the daemon starts: its first sensor tick registers it and queues its (held) run.
    s3.put_object(Bucket=watched, Key=f"in/{HELD_FILE}", Body=build_drawing_dxf(dagster_home / "h.dxf").read_bytes())
    port = _free_port()
    env = {
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_POSTGRES_URL": _fresh_postgres_database(postgres_server_url),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        DAGSTER_URL_ENV: f"http://127.0.0.1:{port}/graphql",
        **pipeline_env(moto_endpoint, watched, jobs_url),
    }
    server_env = {**os.environ, **env}
    location = ["-m", "extraction_pipeline.definitions"]
    logs = {name: (dagster_home / f"{name}.log").open("wb") for name in ("webserver", "daemon")}
    processes = [
        subprocess.Popen(
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), *location],
            env=server_env, stdout=logs["webserver"], stderr=subprocess.STDOUT, start_new_session=True,
        ),
        subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", *location],
            env=server_env, stdout=logs["daemon"], stderr=subprocess.STDOUT, start_new_session=True,
        ),
    ]  # fmt: skip
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            wait_for("the webserver", lambda: _answers(f"http://127.0.0.1:{port}/server_info"), STARTUP_TIMEOUT_SECONDS)
            wait_for("the code location", lambda: _asset_loaded(env[DAGSTER_URL_ENV]), STARTUP_TIMEOUT_SECONDS)
            store = JobStore(jobs_url)
            with DagsterInstance.from_config(str(dagster_home)) as instance:
                yield Stack(env[DAGSTER_URL_ENV], instance, store, env, watched, side, s3)
            store.dispose()
    finally:
        _stop(processes)
        for log in logs.values():
            log.close()


def cli(*args: str, **env: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env or None, catch_exceptions=False)


def run_status(stack: Stack, run_id: str) -> DagsterRunStatus:
    return stack.instance.get_run_by_id(run_id).status


def wait_for_run(stack: Stack, run_id: str, statuses: set[DagsterRunStatus]) -> DagsterRunStatus:
    return wait_for(f"run {run_id} to be {statuses}", lambda: run_status(stack, run_id) in statuses and
                    run_status(stack, run_id), RUN_TIMEOUT_SECONDS)  # fmt: skip


_BACKFILL_QUERY = """
query Backfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    ... on PartitionBackfill { partitionNames tags { key value } assetSelection { path } }
  }
}
"""


def _graphql(stack: Stack, query: str, **variables: Any) -> dict[str, Any]:
    return DagsterWebserver(stack.graphql_url).execute(query, variables)


def test_retry_of_a_failed_job_re_extracts_it_through_the_running_instance(stack: Stack, tmp_path: Path) -> None:
    ref = ObjectRef(stack.side_bucket, "retry/part.dxf")
    key = partition_key_for(ref)
    stack.s3.put_object(Bucket=ref.bucket, Key=ref.key, Body=b"0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC10")
    stack.instance.add_dynamic_partitions(EXTRACTION_PARTITIONS_NAME, [key])
    assert not Pipeline(stack.instance).run(key).success  # a real failed attempt: the file is corrupt
    failed = stack.store.get(ref.file_url)
    assert failed.status is JobStatus.FAILED and failed.error_kind is ErrorKind.PERMANENT
    # The operator fixes the file, then retries the job by its file_url.
    fixed = build_drawing_dxf(tmp_path / "fixed.dxf", drawing_number="DWG-RETRY")
    stack.s3.put_object(Bucket=ref.bucket, Key=ref.key, Body=fixed.read_bytes())

    result = cli("jobs", "retry", ref.file_url)

    assert result.exit_code == 0, result.output
    run_id = result.output.split("launched run ")[1].split()[0]
    row = stack.store.get(ref.file_url)
    assert row.status in {JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.COMPLETED}
    assert row.dagster_run_id == run_id and row.error_message is None
    assert row.etag == stack.s3.head_object(Bucket=ref.bucket, Key=ref.key)["ETag"].strip('"')
    run = stack.instance.get_run_by_id(run_id)
    assert run.tags["dagster/partition"] == key and run.tags["extraction/reason"] == RETRY_REASON
    assert wait_for_run(stack, run_id, {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE}) is DagsterRunStatus.SUCCESS
    row = stack.store.get(ref.file_url)
    assert row.status is JobStatus.COMPLETED and row.dagster_run_id == run_id
    assert row.result["title_block"]["drawing_number"] == "DWG-RETRY"


def test_cancel_of_a_pending_job_terminates_its_queued_run(stack: Stack) -> None:
    file_url = f"s3://{stack.watched_bucket}/in/{HELD_FILE}"
    key = partition_key_for(ObjectRef.from_file_url(file_url))
    queued = wait_for(
        "the sensor to queue the held file's run",
        lambda: stack.instance.get_runs(
            RunsFilter(tags={"dagster/partition": key}, statuses=[DagsterRunStatus.QUEUED])
        ),
        RUN_TIMEOUT_SECONDS,
    )
    row = stack.store.get(file_url)
    assert row.status is JobStatus.PENDING

    result = cli("jobs", "cancel", row.id)

    assert result.exit_code == 0, result.output
    assert queued[0].run_id in result.output
    assert stack.store.get(file_url).status is JobStatus.CANCELLED
    assert wait_for_run(stack, queued[0].run_id, {DagsterRunStatus.CANCELED}) is DagsterRunStatus.CANCELED
    # A cancelled job cannot be cancelled again: clear message, exit code 2.
    again = cli("jobs", "cancel", file_url)
    assert again.exit_code == 2 and "is cancelled: only pending, retrying or processing" in again.output


def test_bulk_retry_launches_one_backfill_and_stats_count_the_jobs(stack: Stack) -> None:
    refs = [ObjectRef(stack.side_bucket, f"bulk/{n}.pdf") for n in range(2)]
    for ref in refs:
        stack.s3.put_object(Bucket=ref.bucket, Key=ref.key, Body=b"not a pdf")
        stack.instance.add_dynamic_partitions(EXTRACTION_PARTITIONS_NAME, [partition_key_for(ref)])
        Pipeline(stack.instance).run(partition_key_for(ref))
    assert {stack.store.get(r.file_url).status for r in refs} == {JobStatus.FAILED}
    stats = json.loads(cli("jobs", "stats", "--json").output)
    assert stats == json.loads(json.dumps(asdict(stack.store.stats())))
    assert stats["by_status"]["failed"] >= 2 and stats["by_format"]["pdf"]["failed"] >= 2
    assert "failure rate" in cli("jobs", "stats").output

    result = cli("jobs", "retry", "--all-failed")

    assert result.exit_code == 0, result.output
    backfill_id = result.output.split("launched backfill ")[1].split(":")[0]
    backfill = _graphql(stack, _BACKFILL_QUERY, backfillId=backfill_id)["partitionBackfillOrError"]  # as the UI
    assert {"key": "extraction/reason", "value": RETRY_REASON} in backfill["tags"]
    assert backfill["assetSelection"] == [{"path": ["file_extraction"]}]
    assert set(backfill["partitionNames"]) >= {partition_key_for(r) for r in refs}
    assert {stack.store.get(r.file_url).status for r in refs} <= {JobStatus.PENDING, JobStatus.PROCESSING}
    assert "no failed jobs" in cli("jobs", "retry", "--status", "failed").output


def _seed(stack: Stack, key: str) -> ObjectRef:
    """A row of a file in the side bucket, registered nowhere: only the CLI under test acts on it."""
    ref = ObjectRef(stack.side_bucket, key)
    stack.s3.put_object(Bucket=ref.bucket, Key=ref.key, Body=b"%PDF-1.4")
    version = ObjectVersion(ref, etag="e1", size=8, last_modified=utcnow())
    stack.store.upsert_pending([NewObject(version, partition_key_for(ref), "pdf")], max_retries=3)
    return ref


def test_operator_errors_are_clear_exit_2_and_leave_the_row_alone(stack: Stack) -> None:
    unknown = cli("jobs", "retry", "no-such-job")
    assert unknown.exit_code == 2 and "no extraction job with id or file_url 'no-such-job'" in unknown.output
    assert cli("jobs", "cancel", "s3://nowhere/x.pdf").exit_code == 2

    pending = _seed(stack, "errors/pending.pdf")
    busy = cli("jobs", "retry", pending.file_url)
    assert busy.exit_code == 2 and "is pending" in busy.output and "jobs cancel" in busy.output
    down_url = f"http://127.0.0.1:{_free_port()}/graphql"
    down = cli("jobs", "cancel", pending.file_url, **{DAGSTER_URL_ENV: down_url})
    assert down.exit_code == 2 and f"is `dagster dev`/the webserver running at {down_url}?" in down.output
    assert stack.store.get(pending.file_url).status is JobStatus.PENDING  # Dagster first, then the row

    completed = _seed(stack, "errors/done.pdf")
    stack.store.mark_completed(completed, result={}, file_format="pdf", extractor_version="pdf/1", duration_ms=5)
    finished = cli("jobs", "cancel", completed.file_url)
    assert finished.exit_code == 2 and "is completed: only pending, retrying or processing" in finished.output
    not_launched = cli("jobs", "retry", completed.file_url, **{DAGSTER_URL_ENV: down_url})
    assert not_launched.exit_code == 2 and "cannot reach the Dagster webserver" in not_launched.output
    assert stack.store.get(completed.file_url).status is JobStatus.COMPLETED  # launch first, then the row

    stack.s3.delete_object(Bucket=completed.bucket, Key=completed.key)
    gone = cli("jobs", "retry", completed.file_url)
    assert gone.exit_code == 2 and "cannot retry job" in gone.output and "does not exist" in gone.output
    not_graphql = stack.graphql_url.removesuffix("/graphql") + "/server_info"
    wrong_url = cli("jobs", "cancel", pending.file_url, **{DAGSTER_URL_ENV: not_graphql})
    assert wrong_url.exit_code == 2 and not_graphql in wrong_url.output
    with pytest.raises(OperationError, match="GraphQL error"):
        DagsterWebserver(stack.graphql_url).execute("{ noSuchField }")
    assert cli("jobs", "retry").exit_code == 2  # neither a job nor --all-failed: a usage error
