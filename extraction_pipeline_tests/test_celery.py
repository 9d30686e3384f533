"""Backfill batches executed on two real Celery workers (RabbitMQ at 127.0.0.1:5672), one of them killed mid-step.

RabbitMQ is required in CI (``EXTRACTION_REQUIRE_RABBITMQ=1``, set by ``.ci/run``); elsewhere the test is skipped
with the reason when the broker is not reachable. Each test uses its own Celery queue, so other users of the
broker do not take its tasks.

Everything runs as the README documents it: ``extraction-pipeline bulk-import`` launches one backfill through the
webserver, the daemon turns it into partition-range runs (``EXTRACTION_BACKFILL_BATCH_SIZE`` files each) and its
run launcher starts them, ``EXTRACTION_EXECUTOR=celery`` sends each run's step to the workers, started with
``dagster-celery worker start -y deploy/celery.yaml -A dagster_celery.app -q <queue> -- --pool solo``. A held
extraction (``EXTRACTION_TEST_HOLD_DIR``) makes "a worker in the middle of a step" certain before it is killed.
"""

from __future__ import annotations

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
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from extraction_pipeline.extractors.hold import HELD_SUFFIX, TEST_HOLD_DIR_ENV
from extraction_pipeline.operations import DAGSTER_URL_ENV
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline_tests.harness import pipeline_env
from extraction_pipeline_tests.live_stack import (
    answers,
    assert_servers_stopped_cleanly,
    free_port,
    stop_process_groups,
    wait_for,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "extraction_pipeline" / "samples"
BIN = Path(sys.executable).parent
BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"  # the broker of deploy/celery.yaml
REQUIRE_RABBITMQ = os.environ.get("EXTRACTION_REQUIRE_RABBITMQ") == "1"
FILES = 12
FILES_PER_RUN = 3
HELD_FILE = "05-flange.pdf"  # the second run's: its worker is certainly mid-step when it is killed
_RECEIVED = re.compile(r"Task \S*execute_plan\[([0-9a-f-]+)\] received")
_SUCCEEDED = re.compile(r"Task \S*execute_plan\[([0-9a-f-]+)\] succeeded")
# A local instance for the daemon: queued runs, dequeued every second; storage in DAGSTER_HOME (SQLite).
_INSTANCE_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
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


@dataclass
class Stack:
    env: dict[str, str]  # of every process: servers, CLI, workers
    queue: str
    hold_dir: Path
    instance: DagsterInstance


@pytest.fixture
def stack(tmp_path: Path, moto_endpoint: str, bucket: str, rabbitmq: str) -> Iterator[Stack]:
    """dagster-webserver and dagster-daemon on a local instance, the code location in Celery mode."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(_INSTANCE_YAML)
    database_url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade_database(database_url)
    queue = f"extraction-test-{uuid.uuid4().hex[:10]}"
    hold_dir = tmp_path / "hold"
    hold_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        # the sensor watches watched/; the import reads import/, so no sensor tick registers its files first
        **pipeline_env(moto_endpoint, bucket, database_url, EXTRACTION_S3_PREFIX="watched/"),
        "AWS_REGION": "us-east-1",
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        DAGSTER_URL_ENV: f"http://127.0.0.1:{port}/graphql",
        "EXTRACTION_EXECUTOR": "celery",
        "EXTRACTION_CELERY_BROKER": rabbitmq,
        "EXTRACTION_CELERY_QUEUE": queue,
        "EXTRACTION_BACKFILL_BATCH_SIZE": str(FILES_PER_RUN),
        TEST_HOLD_DIR_ENV: str(hold_dir),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-celery starts this environment's celery
    }
    location = ["-m", "extraction_pipeline.definitions"]
    logs = {name: tmp_path / f"{name}.log" for name in ("webserver", "daemon")}
    commands = {
        "webserver": [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), *location],
        "daemon": [str(BIN / "dagster-daemon"), "run", *location],
    }
    processes = {}
    for name, command in commands.items():
        with logs[name].open("wb") as out:
            processes[name] = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                               start_new_session=True)  # fmt: skip
    try:
        wait_for("the webserver", lambda: answers(f"http://127.0.0.1:{port}/server_info"), 180)
        with DagsterInstance.from_config(str(home)) as instance:
            yield Stack(env, queue, hold_dir, instance)
    finally:
        codes = stop_process_groups(list(processes.values()), timeout=30)
    assert_servers_stopped_cleanly(logs, {name: codes[process.pid] for name, process in processes.items()})


@pytest.fixture
def workers(stack: Stack, tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    for name in ("extract-a", "extract-b"):
        log = tmp_path / f"{name}.log"
        command = [str(BIN / "dagster-celery"), "worker", "start", "-y", str(ROOT / "deploy" / "celery.yaml"),
                   "-A", "dagster_celery.app", "-n", name, "-q", stack.queue, "--", "--pool", "solo"]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=stack.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
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


def _cli(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "extraction-pipeline"), *args], env=stack.env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _holding_worker(stack: Stack, workers: list[Worker]) -> Worker | None:
    """The worker whose sandbox child holds HELD_FILE: the child is in the worker's process group."""
    marker = stack.hold_dir / f"{HELD_FILE}{HELD_SUFFIX}"
    if not marker.exists() or not marker.read_text():
        return None
    group = os.getpgid(int(marker.read_text()))
    return next((w for w in workers if w.process.pid == group), None)


def test_a_bulk_import_runs_on_two_celery_workers_and_survives_losing_one(stack: Stack, workers, bucket, s3) -> None:
    for index in range(FILES):
        sample = SAMPLES / ("flange.pdf" if index % 2 else "bracket.dxf")
        s3.put_object(Bucket=bucket, Key=f"import/{index:02d}-{sample.name}", Body=sample.read_bytes())
    release = stack.hold_dir / HELD_FILE
    release.touch()
    try:
        launched = _cli(stack, "bulk-import", f"s3://{bucket}/import/", "--no-wait")
        assert launched.returncode == 0, launched.stdout + launched.stderr
        backfill_id = launched.stdout.split("launched backfill ")[1].split(" ")[0]
        _wait_for(lambda: _holding_worker(stack, workers), 300, f"a worker extracting {HELD_FILE}", workers)
        victim = _holding_worker(stack, workers)
        assert victim is not None
        survivor = next(w for w in workers if w is not victim)
        [lost_task] = victim.in_progress()
        victim.kill()  # the worker and its sandbox child, mid-step: a lost machine
    finally:
        release.unlink()

    def backfill_runs_finished() -> list | None:
        runs = stack.instance.get_runs(filters=RunsFilter(tags={"dagster/backfill": backfill_id}))
        return runs if len(runs) == FILES // FILES_PER_RUN and all(run.is_finished for run in runs) else None

    runs = wait_for("the backfill's runs to finish", backfill_runs_finished, 600, 1.0)
    store = JobStore(stack.env["EXTRACTION_DATABASE_URL"])
    rows = store.list(limit=100)
    store.dispose()
    assert len(rows) == FILES
    # every file of these samples extracts: they all end completed, the lost step's files included
    assert {(r.file_url.rsplit("/", 1)[1], r.status) for r in rows if r.status is not JobStatus.COMPLETED} == set()
    assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
    # the killed worker's step was redelivered to the other one and finished there; every step ran once to the end
    assert lost_task in survivor.succeeded()
    assert len(set(victim.succeeded()) | set(survivor.succeeded())) == len(runs)
