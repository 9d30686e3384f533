"""Backfill batches executed on two real Celery workers (RabbitMQ at 127.0.0.1:5672), one of them killed mid-step.

RabbitMQ is required in CI (``EXTRACTION_REQUIRE_RABBITMQ=1``, set by ``.ci/run``); elsewhere the test is skipped
with the reason when the broker is not reachable. Each test uses its own Celery queue, so other users of the
broker do not take its tasks.

The runs are the partition-range runs a backfill of ``file_extraction`` makes (``BackfillPolicy.multi_run``:
``dagster/asset_partition_range_start``/``_end`` tags), started concurrently, each in its own process as the
run launcher would, with ``EXTRACTION_EXECUTOR=celery`` so their steps go to the workers.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from extraction_pipeline.defs.extraction.executors import CELERY_CONFIG_SOURCE
from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline_tests.harness import Pipeline, pipeline_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "extraction_pipeline" / "samples"
BIN = Path(sys.executable).parent
BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"
REQUIRE_RABBITMQ = os.environ.get("EXTRACTION_REQUIRE_RABBITMQ") == "1"
FILES = 12
FILES_PER_RUN = 3
_RECEIVED = re.compile(r"Task \S*execute_plan\[([0-9a-f-]+)\] received")
_SUCCEEDED = re.compile(r"Task \S*execute_plan\[([0-9a-f-]+)\] succeeded")

# One backfill run, in its own process, as the run launcher starts it: the job loaded by its module path.
_RUN_ONE_BATCH = """
import json, sys
from dagster import DagsterInstance, execute_job
from dagster._core.definitions.reconstruct import ReconstructableRepository

job = ReconstructableRepository.for_module("extraction_pipeline.definitions", "defs").get_reconstructable_job(
    "extract_files"
)
with DagsterInstance.get() as instance:
    result = execute_job(job, instance=instance, tags=json.loads(sys.argv[1]), raise_on_error=False)
    print(json.dumps({"run_id": result.run_id, "success": result.success}))
"""


def _rabbitmq_unavailable_reason() -> str | None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=3).close()
        return None
    except OSError as error:
        return f"RabbitMQ not reachable at 127.0.0.1:5672: {error}"


@pytest.fixture
def rabbitmq() -> str:
    reason = _rabbitmq_unavailable_reason()
    if reason:
        if REQUIRE_RABBITMQ:
            pytest.fail(f"EXTRACTION_REQUIRE_RABBITMQ=1 but {reason}")
        pytest.skip(reason)
    return BROKER


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log: Path
    killed: bool = False

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def received(self) -> list[str]:
        return _RECEIVED.findall(self.text())

    def succeeded(self) -> list[str]:
        return _SUCCEEDED.findall(self.text())

    def in_progress(self) -> list[str]:
        done = set(self.succeeded())
        return [task for task in self.received() if task not in done]

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)  # the worker and its celery child: a lost machine
        self.killed = True
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
def stack(monkeypatch, tmp_path: Path, moto_endpoint: str, bucket: str, rabbitmq: str) -> dict[str, str]:
    """Environment shared by this process, the run processes and the workers: one instance, table, bucket."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    database_url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade_database(database_url)
    queue = f"extraction-test-{uuid.uuid4().hex[:10]}"
    env = {
        **pipeline_env(moto_endpoint, bucket, database_url),
        "DAGSTER_HOME": str(home),
        "EXTRACTION_EXECUTOR": "celery",
        "EXTRACTION_CELERY_BROKER": rabbitmq,
        "EXTRACTION_CELERY_QUEUE": queue,
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with DagsterInstance.get() as instance:  # create its SQLite storages once, before several processes open them
        instance.get_runs(limit=1)
    config_source = {**CELERY_CONFIG_SOURCE, "task_default_queue": queue}
    config = {"execution": {"config": {"broker": rabbitmq, "backend": "rpc://", "config_source": config_source}}}
    (tmp_path / "celery.yaml").write_text(yaml.safe_dump(config))
    # dagster-celery starts the `celery` command of this environment
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, **env, "PATH": path, "CELERY_YAML": str(tmp_path / "celery.yaml"), "QUEUE": queue}


@pytest.fixture
def workers(stack: dict[str, str], tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    for name in ("extract-a", "extract-b"):
        log = tmp_path / f"{name}.log"
        command = [str(BIN / "dagster-celery"), "worker", "start", "-y", stack["CELERY_YAML"], "-A",
                   "dagster_celery.app", "-n", name, "-q", stack["QUEUE"], "--", "--pool", "solo"]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=stack, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                       start_new_session=True)  # fmt: skip
        started.append(Worker(name, process, log))
    try:
        _wait_for(lambda: all(" ready." in w.text() for w in started), 120, "workers ready", started)
        yield started
    finally:
        for worker in started:
            worker.stop()


def _wait_for(condition, timeout: float, what: str, workers: list[Worker]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(w.process.poll() is None or w.killed for w in workers):
        if condition():
            return
        time.sleep(0.1)
    logs = "\n".join(f"--- {w.name}\n{w.text()[-3000:]}" for w in workers)
    raise AssertionError(f"no {what} within {timeout} s (or a worker exited)\n{logs}")


def _register_files(bucket: str, s3) -> tuple[DagsterInstance, list[str]]:
    """Upload the files and let the listing sensor register them (partitions + pending rows), no runs."""
    for index in range(FILES):
        sample = SAMPLES / ("flange.pdf" if index % 2 else "bracket.dxf")
        s3.put_object(Bucket=bucket, Key=f"import/{index:02d}-{sample.name}", Body=sample.read_bytes())
    instance = DagsterInstance.get()
    pipeline = Pipeline(instance)
    list(pipeline.ticks_until_idle())
    return instance, list(instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME))


def test_backfill_batches_run_on_two_celery_workers_and_survive_losing_one(
    monkeypatch, stack, workers, bucket, s3
) -> None:
    monkeypatch.setenv("EXTRACTION_SENSOR_LAUNCH_RUNS", "false")
    instance, keys = _register_files(bucket, s3)
    assert len(keys) == FILES
    batches = [keys[start : start + FILES_PER_RUN] for start in range(0, FILES, FILES_PER_RUN)]
    runs = [_start_batch_run(batch, stack) for batch in batches]
    try:
        # Kill a worker that has finished a step and is in the middle of another one.
        def victim_found() -> bool:
            return any(w.succeeded() and w.in_progress() for w in workers)

        _wait_for(victim_found, 300, "a worker busy with its second step", workers)
        victim = next(w for w in workers if w.succeeded() and w.in_progress())
        survivor = next(w for w in workers if w is not victim)
        lost_task = victim.in_progress()[0]
        victim.kill()

        outcomes = [_finish(run) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()

    store = JobStore(stack["EXTRACTION_DATABASE_URL"])
    rows = store.list(limit=100)
    store.dispose()
    assert len(rows) == FILES
    stuck = [(r.file_url, r.status) for r in rows if r.status not in (JobStatus.COMPLETED, JobStatus.FAILED)]
    assert stuck == []
    assert all(r.error_message for r in rows if r.status is JobStatus.FAILED)
    # every file of these samples extracts: they all end completed, the lost step's files included
    assert {r.status for r in rows} == {JobStatus.COMPLETED}
    assert all(outcome["success"] for outcome in outcomes), outcomes
    # both workers did work; the killed worker's step was redelivered to the other one and finished there
    assert victim.succeeded() and survivor.succeeded()
    assert lost_task in survivor.succeeded()
    assert len(set(victim.succeeded()) | set(survivor.succeeded())) == len(batches)
    instance.dispose()


def _start_batch_run(batch: list[str], env: dict[str, str]) -> subprocess.Popen:
    tags = {ASSET_PARTITION_RANGE_START_TAG: batch[0], ASSET_PARTITION_RANGE_END_TAG: batch[-1]}
    command = [sys.executable, "-c", _RUN_ONE_BATCH, json.dumps(tags)]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(run: subprocess.Popen) -> dict:
    stdout, stderr = run.communicate(timeout=420)
    assert run.returncode == 0, stderr[-3000:]
    return json.loads(stdout.strip().splitlines()[-1])
