"""`jobs retry` / `jobs cancel` / `jobs stats` against a real running Dagster: dagster-webserver + dagster-daemon.

One stack per module: the production dagster.yaml on a throw-away PostgreSQL database, the code location
loaded with ``-m extraction_pipeline.definitions``, S3 on the moto server and the jobs table on PostgreSQL.
The copy of dagster.yaml adds one tag limit of 0 so runs of ``held.dxf`` stay queued (something to cancel), and
``EXTRACTION_TEST_HOLD_DIR`` lets a test pause a named file's extraction in its sandbox child until released
(something certainly in progress, whatever the machine's speed: ``extraction_pipeline.extractors.hold``).
The sensor watches ``in/`` of the watched bucket; files elsewhere in it are the tests' alone. The CLI runs
through its installed entry point in a subprocess, as an operator runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml
from dagster import AssetKey, AssetMaterialization, DagsterInstance, DagsterRunStatus, RunsFilter

from extraction_pipeline.api import ApiAuth, ApiContext
from extraction_pipeline.api.auth import parse_tokens
from extraction_pipeline.dagster_api import DagsterWebserver
from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME, partition_key_for
from extraction_pipeline.errors import ErrorKind, OperationError
from extraction_pipeline.extractors.hold import HELD_SUFFIX, TEST_HOLD_DIR_ENV
from extraction_pipeline.names import ASSET_NAME, JOB_NAME, RETRY_REASON
from extraction_pipeline.objects import ObjectRef, ObjectVersion
from extraction_pipeline.settings import DAGSTER_URL_ENV
from extraction_pipeline.store import JobStatus, JobStore, NewObject
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline.store.models import utcnow
from extraction_pipeline_tests.api_harness import serving
from extraction_pipeline_tests.conftest import _fresh_postgres_database, s3_client
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.extractors.pdf_builders import build_drawing_pdf
from extraction_pipeline_tests.harness import Pipeline, pipeline_env
from extraction_pipeline_tests.live_stack import (
    answers,
    assert_servers_stopped_cleanly,
    free_port,
    stop_process_groups,
    wait_for,
)
from extraction_pipeline_tests.rows import complete_row

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HELD_FILE = "held.dxf"  # a tag limit of 0 keeps its runs queued
WATCHED_PREFIX = "in/"
EXE = BIN / "extraction-pipeline"
STARTUP_TIMEOUT_SECONDS = 120.0
RUN_TIMEOUT_SECONDS = 90.0
T = TypeVar("T")


@dataclass
class Stack:
    graphql_url: str
    instance: DagsterInstance
    store: JobStore
    env: dict[str, str]  # the code location's environment (and the CLI's)
    watched_bucket: str  # the sensor lists its prefix in/; keys outside it are the tests' alone
    other_bucket: str  # a bucket this instance does not watch
    s3: Any
    hold_dir: Path  # EXTRACTION_TEST_HOLD_DIR of the stack: <hold_dir>/<name> pauses that file's extraction

    def hold_extraction(self, filename: str) -> Path:
        """Pause the extraction of files named ``filename`` until the returned request file is deleted."""
        request = self.hold_dir / filename
        request.touch()
        return request

    def held_pid(self, filename: str) -> int | None:
        """The sandbox child holding ``filename``'s extraction, once it is held."""
        marker = self.hold_dir / f"{filename}{HELD_SUFFIX}"
        text = marker.read_text() if marker.exists() else ""
        return int(text) if text else None


def _instance_yaml(dagster_home: Path) -> None:
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config["concurrency"]["runs"]["tag_concurrency_limits"].append(
        {"key": "extraction/file", "value": HELD_FILE, "limit": 0}
    )
    config["run_coordinator"]["config"] = {"dequeue_interval_seconds": 1}  # the default 5 s only slows the test
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(config))


def _asset_loaded(graphql_url: str) -> bool:
    query = '{ assetNodeOrError(assetKey: {path: ["file_extraction"]}) { __typename } }'
    try:
        return DagsterWebserver(graphql_url).execute(query)["assetNodeOrError"]["__typename"] == "AssetNode"
    except OperationError:
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory, postgres_server_url: str, moto_endpoint: str) -> Iterator[Stack]:
    dagster_home = tmp_path_factory.mktemp("dagster_home")
    hold_dir = tmp_path_factory.mktemp("hold")
    _instance_yaml(dagster_home)
    jobs_url = _fresh_postgres_database(postgres_server_url)
    upgrade_database(jobs_url)
    s3 = s3_client(moto_endpoint)
    watched, other = (f"{name}-{uuid.uuid4().hex[:10]}" for name in ("watched", "other"))
    for name in (watched, other):
        s3.create_bucket(Bucket=name)
    # On the bucket before the daemon starts: its first sensor tick registers it and queues its (held) run.
    s3.put_object(Bucket=watched, Key=f"in/{HELD_FILE}", Body=build_drawing_dxf(dagster_home / "h.dxf").read_bytes())
    port = free_port()
    env = {
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_POSTGRES_URL": _fresh_postgres_database(postgres_server_url),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        DAGSTER_URL_ENV: f"http://127.0.0.1:{port}/graphql",
        TEST_HOLD_DIR_ENV: str(hold_dir),
        **pipeline_env(moto_endpoint, watched, jobs_url, EXTRACTION_S3_PREFIX=WATCHED_PREFIX),
    }
    server_env = {**os.environ, **env}
    location = ["-m", "extraction_pipeline.definitions"]
    log_paths = {name: dagster_home / f"{name}.log" for name in ("webserver", "daemon")}
    logs = {name: path.open("wb") for name, path in log_paths.items()}
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
            wait_for("the webserver", lambda: answers(f"http://127.0.0.1:{port}/server_info"), STARTUP_TIMEOUT_SECONDS)
            wait_for("the code location", lambda: _asset_loaded(env[DAGSTER_URL_ENV]), STARTUP_TIMEOUT_SECONDS)
            store = JobStore(jobs_url)
            with DagsterInstance.from_config(str(dagster_home)) as instance:
                yield Stack(env[DAGSTER_URL_ENV], instance, store, env, watched, other, s3, hold_dir)
            store.dispose()
    finally:
        codes = stop_process_groups(processes, timeout=30)  # as test_production.py: a run may be ending
        for log in logs.values():
            log.close()
    assert_servers_stopped_cleanly(log_paths, {name: codes[p.pid] for name, p in zip(logs, processes, strict=True)})


@dataclass
class Result:
    exit_code: int
    output: str  # stdout and stderr


def cli(*args: str, **env: str) -> Result:
    """The installed entry point in a subprocess, with the stack's environment (set by the fixture)."""
    done = subprocess.run([str(EXE), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return Result(done.returncode, done.stdout + done.stderr)


def run_status(stack: Stack, run_id: str) -> DagsterRunStatus:
    return stack.instance.get_run_by_id(run_id).status


def wait_for_run(stack: Stack, run_id: str, statuses: set[DagsterRunStatus]) -> DagsterRunStatus:
    return wait_for(f"run {run_id} to be {statuses}", lambda: run_status(stack, run_id) in statuses and
                    run_status(stack, run_id), RUN_TIMEOUT_SECONDS)  # fmt: skip


_BACKFILL_QUERY = """
query Backfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    ... on PartitionBackfill { partitionNames tags { key value } partitionSetName }
  }
}
"""


def _graphql(stack: Stack, query: str, **variables: Any) -> dict[str, Any]:
    return DagsterWebserver(stack.graphql_url).execute(query, variables)


def test_retry_of_a_failed_job_re_extracts_it_through_the_running_instance(stack: Stack, tmp_path: Path) -> None:
    ref = ObjectRef(stack.watched_bucket, "retry/part.dxf")
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
    shown = _graphql(stack, "query Run($id: ID!) { runOrError(runId: $id) { ... on Run { jobName } } }", id=run_id)
    assert shown["runOrError"]["jobName"] == JOB_NAME  # what the UI's run and partition pages show
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
    # The partition says so (its run never started, so no step could): not the look of a never-run file.
    records = stack.instance.fetch_observations(AssetKey(ASSET_NAME), limit=50).records
    said = [r.asset_observation.description for r in records if r.asset_observation.partition == key]
    by_operator = "cancelled by an operator (`extraction-pipeline jobs cancel`)"
    assert said == [f"{by_operator}; extraction-pipeline jobs show {row.id}"]
    # A cancelled job cannot be cancelled again: clear message, exit code 2.
    again = cli("jobs", "cancel", file_url)
    assert again.exit_code == 2 and "is cancelled: only pending, retrying or processing" in again.output


def test_bulk_retry_launches_one_backfill_and_stats_count_the_jobs(stack: Stack) -> None:
    refs = [ObjectRef(stack.watched_bucket, f"bulk/{n}.pdf") for n in range(2)]
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
    assert backfill["partitionSetName"] == f"{JOB_NAME}_partition_set"  # a backfill of the named job
    assert set(backfill["partitionNames"]) >= {partition_key_for(r) for r in refs}
    assert {stack.store.get(r.file_url).status for r in refs} <= {JobStatus.PENDING, JobStatus.PROCESSING}
    assert "no failed jobs" in cli("jobs", "retry", "--status", "failed").output


def _seed(stack: Stack, key: str) -> ObjectRef:
    """A row of a file outside the sensor's prefix, registered nowhere: only the CLI under test acts on it."""
    ref = ObjectRef(stack.watched_bucket, key)
    stack.s3.put_object(Bucket=ref.bucket, Key=ref.key, Body=b"%PDF-1.4")
    version = ObjectVersion(ref, etag="e1", size=8, last_modified=utcnow())
    stack.store.upsert_pending([NewObject(version, partition_key_for(ref), "pdf")], max_retries=3)
    stack.instance.add_dynamic_partitions(EXTRACTION_PARTITIONS_NAME, [partition_key_for(ref)])
    return ref


def test_operator_errors_are_clear_exit_2_and_leave_the_row_alone(stack: Stack) -> None:
    unknown = cli("jobs", "retry", "no-such-job")
    assert unknown.exit_code == 2 and "no extraction job with id or file_url 'no-such-job'" in unknown.output
    assert cli("jobs", "cancel", "s3://nowhere/x.pdf").exit_code == 2

    pending = _seed(stack, "errors/pending.pdf")
    busy = cli("jobs", "retry", pending.file_url)
    assert busy.exit_code == 2 and "is pending" in busy.output and "jobs cancel" in busy.output
    down_url = f"http://127.0.0.1:{free_port()}/graphql"
    down = cli("jobs", "cancel", pending.file_url, **{DAGSTER_URL_ENV: down_url})
    assert down.exit_code == 9 and f"is `dagster dev`/the webserver running at {down_url}?" in down.output
    assert stack.store.get(pending.file_url).status is JobStatus.PENDING  # Dagster first, then the row

    completed = _seed(stack, "errors/done.pdf")
    complete_row(stack.store, completed, result={}, file_format="pdf", extractor_version="pdf/1", duration_ms=5)
    finished = cli("jobs", "cancel", completed.file_url)
    assert finished.exit_code == 2 and "is completed: only pending, retrying or processing" in finished.output
    not_launched = cli("jobs", "retry", completed.file_url, **{DAGSTER_URL_ENV: down_url})
    assert not_launched.exit_code == 9 and "cannot reach the Dagster webserver" in not_launched.output
    assert stack.store.get(completed.file_url).status is JobStatus.COMPLETED  # launch first, then the row

    stack.s3.delete_object(Bucket=completed.bucket, Key=completed.key)
    gone = cli("jobs", "retry", completed.file_url)
    assert gone.exit_code == 2 and "cannot retry job" in gone.output and "does not exist" in gone.output
    not_graphql = stack.graphql_url.removesuffix("/graphql") + "/server_info"
    wrong_url = cli("jobs", "cancel", pending.file_url, **{DAGSTER_URL_ENV: not_graphql})
    assert wrong_url.exit_code == 1 and not_graphql in wrong_url.output
    with pytest.raises(OperationError, match="GraphQL error"):
        DagsterWebserver(stack.graphql_url).execute("{ noSuchField }")
    assert cli("jobs", "retry").exit_code == 2  # neither a job nor --all-failed: a usage error


def test_retry_refuses_a_file_the_instance_behind_the_webserver_does_not_own(stack: Stack) -> None:
    """Another stack's webserver (or this one, for a file it never registered) must not get a doomed run."""
    foreign = ObjectRef(stack.other_bucket, "elsewhere/part.pdf")
    stack.s3.put_object(Bucket=foreign.bucket, Key=foreign.key, Body=b"%PDF-1.4")
    version = ObjectVersion(foreign, etag="e1", size=8, last_modified=utcnow())
    stack.store.upsert_pending([NewObject(version, partition_key_for(foreign), "pdf")], max_retries=3)
    stack.store.mark_failed(foreign, message="boom", kind=ErrorKind.RETRYABLE)
    unregistered = ObjectRef(stack.watched_bucket, "unregistered/part.pdf")
    stack.s3.put_object(Bucket=unregistered.bucket, Key=unregistered.key, Body=b"%PDF-1.4")
    version = ObjectVersion(unregistered, etag="e2", size=8, last_modified=utcnow())
    stack.store.upsert_pending([NewObject(version, partition_key_for(unregistered), "pdf")], max_retries=3)
    stack.store.mark_failed(unregistered, message="boom", kind=ErrorKind.RETRYABLE)
    backfills_before = len(stack.instance.get_backfills())

    other_bucket = cli("jobs", "retry", foreign.file_url)
    not_registered = cli("jobs", "retry", unregistered.file_url)

    assert other_bucket.exit_code == 10, other_bucket.output
    assert f"watches bucket {stack.watched_bucket!r}, not {stack.other_bucket!r}" in other_bucket.output
    assert "EXTRACTION_DAGSTER_URL" in other_bucket.output
    assert not_registered.exit_code == 10, not_registered.output
    assert f"has no partition {partition_key_for(unregistered)!r}" in not_registered.output
    assert {stack.store.get(r.file_url).status for r in (foreign, unregistered)} == {JobStatus.FAILED}
    # nothing launched for either file (other tests' runs may come and go on this shared stack meanwhile)
    for ref in (foreign, unregistered):
        tagged = RunsFilter(tags={"dagster/partition": partition_key_for(ref)})
        assert stack.instance.get_run_records(filters=tagged) == []
    assert len(stack.instance.get_backfills()) == backfills_before


def _is_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat.rsplit(b")", 1)[1].split()[0] != b"Z"


def test_cancel_of_a_started_job_stops_the_attempt_and_its_sandbox_child_without_a_retry(
    stack: Stack, tmp_path: Path
) -> None:
    from extraction_pipeline.dagster_api import find_asset_job, launch_partition_run
    from extraction_pipeline.operations import retry_run_tags

    ref = _seed(stack, "cancel/paused.pdf")
    stack.s3.put_object(Bucket=ref.bucket, Key=ref.key, Body=build_drawing_pdf(tmp_path / "p.pdf").read_bytes())
    release = stack.hold_extraction("paused.pdf")  # its sandbox child waits until the test lets it go
    webserver = DagsterWebserver(stack.graphql_url)
    try:
        row = stack.store.get(ref.file_url)
        run_id = launch_partition_run(webserver, find_asset_job(webserver), row.partition_key, retry_run_tags(row))
        child = wait_for("the run's sandbox child to be extracting", lambda: stack.held_pid("paused.pdf"),
                         RUN_TIMEOUT_SECONDS, 0.1)  # fmt: skip
        assert run_status(stack, run_id) is DagsterRunStatus.STARTED
        assert stack.store.get(ref.file_url).status is JobStatus.PROCESSING

        result = cli("jobs", "cancel", ref.file_url)

        assert result.exit_code == 0, result.output
        assert run_id in result.output
        # still held while the run ends: finishing the extraction is not a way out of the cancel
        assert wait_for_run(stack, run_id, {DagsterRunStatus.CANCELED, DagsterRunStatus.FAILURE,
                                            DagsterRunStatus.SUCCESS}) is DagsterRunStatus.CANCELED  # fmt: skip
    finally:
        release.unlink()
    logs = stack.instance.all_logs(run_id)
    events = {record.dagster_event.event_type_value for record in logs if record.dagster_event}
    assert not events & {"STEP_UP_FOR_RETRY", "STEP_RESTARTED"}
    wait_for("the sandbox child to be gone", lambda: not _is_alive(child), 30)
    row = stack.store.get(ref.file_url)
    assert row.status is JobStatus.CANCELLED and row.retry_count == 0
    observation = stack.instance.fetch_observations(AssetKey(ASSET_NAME), limit=20).records
    mine = [r.asset_observation for r in observation if r.asset_observation.partition == row.partition_key]
    # The step's own observation (with the run) and the CLI's: both say cancelled.
    assert {o.metadata["status"].value for o in mine if "status" in o.metadata} == {"cancelled"}
    assert any((o.description or "").startswith("cancelled by an operator") for o in mine)


def test_the_http_api_retries_and_cancels_through_the_running_instance(stack: Stack) -> None:
    """PyBase's path: the API's retry launches a real run, its cancel terminates it, /health sees the stack."""
    ref = _seed(stack, f"api/{HELD_FILE}")  # the held file name: its runs stay queued
    job = stack.store.mark_failed(ref, message="not a DXF", kind=ErrorKind.PERMANENT)
    context = ApiContext(store=stack.store, bucket=stack.watched_bucket, s3_client=lambda: stack.s3)
    headers = {"Authorization": "Bearer live-token"}
    with serving(context, ApiAuth(parse_tokens("live-token"))) as url, httpx.Client(base_url=url, headers=headers,
                                                                                    timeout=60) as client:  # fmt: skip
        health = client.get("/health")
        retried = client.post(f"/jobs/{job.id}/retry")
        assert retried.status_code == 202, retried.text
        run_id = retried.json()["run_id"]
        wait_for_run(stack, run_id, {DagsterRunStatus.QUEUED})
        cancelled = client.delete(f"/jobs/{job.id}")
        again = client.delete(f"/jobs/{job.id}")

    assert health.status_code == 200, health.text
    assert health.json() == {"status": "ok", **{name: {"ok": True, "detail": None} for name in ("database", "s3",
                                                                                               "dagster")}}  # fmt: skip
    run = stack.instance.get_run_by_id(run_id)
    assert run.tags["dagster/partition"] == partition_key_for(ref) and run.tags["extraction/reason"] == RETRY_REASON
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["terminated_run_ids"] == [run_id] and cancelled.json()["job"]["status"] == "cancelled"
    assert wait_for_run(stack, run_id, {DagsterRunStatus.CANCELED}) is DagsterRunStatus.CANCELED
    assert stack.store.get(job.id).status is JobStatus.CANCELLED
    assert again.status_code == 409 and "only pending, retrying or processing" in again.json()["detail"]


_PARTITION_STATUSES = """
query PartitionStatuses($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      assetPartitionStatuses {
        ... on DefaultPartitionStatuses { materializedPartitions failedPartitions materializingPartitions }
      }
    }
  }
}
"""


def partition_statuses(stack: Stack, partition_key: str) -> set[str]:
    """What the UI's partition bar says about one partition: materialized, failed, materializing (or none)."""
    data = _graphql(stack, _PARTITION_STATUSES, assetKey={"path": [ASSET_NAME]})
    statuses = data["assetNodeOrError"]["assetPartitionStatuses"]
    return {name.removesuffix("Partitions") for name, keys in statuses.items() if partition_key in keys}


def _runs_of(stack: Stack, partition_key: str) -> list[Any]:
    return stack.instance.get_runs(RunsFilter(tags={"dagster/partition": partition_key}))


def test_cancel_right_after_retry_ends_the_run_cancelled_and_the_partition_not_failed(
    stack: Stack, tmp_path: Path
) -> None:
    """A new user's sequence: `jobs retry` of an extracted file, `jobs cancel` at once, whatever state the run has
    reached meanwhile (queued, starting or started). The run, the row and the partition must then agree."""
    ref = ObjectRef(stack.watched_bucket, "quick/part.dxf")
    body = build_drawing_dxf(tmp_path / "p.dxf").read_bytes()
    stack.s3.put_object(Bucket=ref.bucket, Key=ref.key, Body=body)
    key = partition_key_for(ref)
    stack.instance.add_dynamic_partitions(EXTRACTION_PARTITIONS_NAME, [key])
    # Extracted once: the row is completed and the partition materialized (as a run leaves them).
    version = ObjectVersion(ref, etag=stack.s3.head_object(Bucket=ref.bucket, Key=ref.key)["ETag"].strip('"'),
                            size=len(body), last_modified=utcnow())  # fmt: skip
    stack.store.upsert_pending([NewObject(version, key, "dxf")], max_retries=3)
    first_result = {"format": "dxf", "title_block": {"drawing_number": "DWG-1"}}
    complete_row(stack.store, ref, result=first_result, file_format="dxf", extractor_version="dxf/1", duration_ms=5)
    stack.instance.report_runless_asset_event(AssetMaterialization(ASSET_NAME, partition=key))

    retried = cli("jobs", "retry", ref.file_url)
    cancelled = cli("jobs", "cancel", ref.file_url)

    assert retried.exit_code == 0, retried.output
    run_id = retried.output.split("launched run ")[1].split()[0]
    assert cancelled.exit_code == 0, cancelled.output
    assert f"terminated runs: {run_id}" in cancelled.output
    finished = {DagsterRunStatus.CANCELED, DagsterRunStatus.FAILURE, DagsterRunStatus.SUCCESS}
    assert wait_for_run(stack, run_id, finished) is DagsterRunStatus.CANCELED
    row = stack.store.get(ref.file_url)
    assert row.status is JobStatus.CANCELLED and row.result == first_result  # nothing extracted, nothing lost
    statuses = {run.run_id: run.status for run in _runs_of(stack, key)}
    assert DagsterRunStatus.FAILURE not in statuses.values(), statuses
    assert statuses[run_id] is DagsterRunStatus.CANCELED
    # The partition keeps its one materialization and is neither failed nor in progress.
    assert partition_statuses(stack, key) == {"materialized"}
    mine = [r for r in stack.instance.fetch_materializations(AssetKey(ASSET_NAME), limit=100).records
            if r.asset_materialization.partition == key]  # fmt: skip
    assert len(mine) == 1


def test_cancel_of_a_run_stuck_starting_marks_it_canceled(stack: Stack) -> None:
    """A run whose worker never comes up (STARTING for good) is marked CANCELED after the wait; Dagster's run
    worker starts nothing for a run it finds CANCELED."""
    from dagster import job, op

    from extraction_pipeline.operations import cancel_job

    @op
    def never_runs() -> None: ...

    @job
    def stuck() -> None:
        never_runs()

    ref = _seed(stack, "cancel/stuck.pdf")
    key = partition_key_for(ref)
    run = stack.instance.create_run_for_job(stuck, status=DagsterRunStatus.STARTING, tags={"dagster/partition": key})

    outcome = cancel_job(stack.store, ref.file_url, webserver=DagsterWebserver(stack.graphql_url),
                         start_wait_seconds=1.0)  # fmt: skip

    assert outcome.terminated_run_ids == [run.run_id] and outcome.termination_failures == {}
    assert run_status(stack, run.run_id) is DagsterRunStatus.CANCELED
    assert stack.store.get(ref.file_url).status is JobStatus.CANCELLED
