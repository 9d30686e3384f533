"""Celery steps against a broker with a short consumer timeout and a 5 s heartbeat: no redelivery loop.

RabbitMQ closes the channel of a consumer holding an unacknowledged message past ``consumer_timeout`` and
redelivers it; with late acknowledgement a step longer than that runs again and again. It also drops a client
silent for two heartbeat intervals (what a solo-pool worker is during a step). The test runs a private RabbitMQ node
(``private_rabbitmq``: the machine's 3.10 broker has no per-queue timeout) with a 90 s timeout, checked every
second, and a 5 s heartbeat; two workers as docs/celery.md starts them; a stack that knows the timeout
(``EXTRACTION_CELERY_CONSUMER_TIMEOUT_SECONDS``) and expects a quarter of it per file.

- While the stack starts, a bare AMQP consumer holds a message past the timeout: the broker closes its channel and
  delivers the message again — the loop the bound keeps steps out of, and the proof this broker enforces it.
- A bulk import of six files, each held 8 s (``EXTRACTION_TEST_HOLD_DIR``), one after another: the 250-file batch
  would make one step of all six; the bound makes steps of 2 files, each delivered once, though each lasts more
  than two heartbeat intervals.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import amqp
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from extraction_pipeline.extractors.hold import HELD_SUFFIX, TEST_HOLD_DIR_ENV
from extraction_pipeline.operations import DAGSTER_URL_ENV
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline_tests import private_rabbitmq
from extraction_pipeline_tests.celery_stack import BIN, SLOW_MACHINE_ENV, cli, servers, wait_until, workers
from extraction_pipeline_tests.harness import pipeline_env
from extraction_pipeline_tests.live_stack import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "extraction_pipeline" / "samples"
REQUIRE_RABBITMQ = os.environ.get("EXTRACTION_REQUIRE_RABBITMQ") == "1"
# The private broker's consumer timeout. A step's time counts from its delivery, Dagster's start of the step
# included: on a machine loaded far beyond its cores that alone can take a minute, so it can be raised there.
TIMEOUT_S = int(os.environ.get("EXTRACTION_TEST_CELERY_TIMEOUT_SECONDS") or 90)
# RabbitMQ drops a client silent for two intervals; a worker starting up is busy for a few seconds (mingle)
HEARTBEAT_S = 5
SECONDS_PER_FILE = TIMEOUT_S / 4  # timeout x 0.5 / (timeout / 4): 2 files per step
FILES = 6
HOLD_S = 8.0  # each backfill file's extraction time, one file after another (EXTRACTION_BATCH_WORKERS=1)
_INSTANCE_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
"""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    reason = private_rabbitmq.unavailable_reason()
    if reason:
        if REQUIRE_RABBITMQ:
            pytest.fail(f"EXTRACTION_REQUIRE_RABBITMQ=1 but {reason}")
        pytest.skip(reason)
    with private_rabbitmq.private_rabbitmq(
        tmp_path / "rabbitmq", consumer_timeout_ms=TIMEOUT_S * 1000, heartbeat_s=HEARTBEAT_S
    ) as url:
        yield url


@pytest.fixture
def overdue(broker: str) -> OverdueConsumer:
    """Started before the stack: its wait past the timeout overlaps the stack's start."""
    probe = OverdueConsumer(broker)
    probe.start()
    return probe


class OverdueConsumer(threading.Thread):
    """Takes one message and holds it unacknowledged past the broker's timeout, then takes it again."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.outcome = url, list[str]()
        self.queue = f"overdue-{uuid.uuid4().hex[:8]}"

    def run(self) -> None:
        parts = urlsplit(self.url)
        login = {"userid": parts.username, "password": parts.password, "virtual_host": parts.path[1:]}
        with amqp.Connection(f"{parts.hostname}:{parts.port}", **login) as connection:
            channel = connection.channel()
            channel.queue_declare(self.queue, auto_delete=False)  # outlives the closed channel, as a Celery queue
            channel.basic_publish(amqp.Message("step"), routing_key=self.queue)
            channel.basic_consume(self.queue, callback=lambda message: None)  # never acknowledged
            deadline = time.monotonic() + TIMEOUT_S + 30
            try:
                while time.monotonic() < deadline:
                    with contextlib.suppress(TimeoutError, socket.timeout):
                        connection.drain_events(timeout=1)
            except amqp.exceptions.PreconditionFailed:
                self.outcome.append("closed: PRECONDITION_FAILED")
            again = connection.channel()
            message = again.basic_get(self.queue, no_ack=True)
            again_delivered = message is not None and message.delivery_info["redelivered"]
            self.outcome.append("redelivered" if again_delivered else "lost")
            again.queue_delete(self.queue)


@dataclass
class Stack:
    env: dict[str, str]
    queue: str
    hold_dir: Path
    instance: DagsterInstance


@pytest.fixture
def stack(tmp_path: Path, moto_endpoint: str, bucket: str, broker: str) -> Iterator[Stack]:
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
        **pipeline_env(moto_endpoint, bucket, database_url, EXTRACTION_S3_PREFIX="watched/"),
        "AWS_REGION": "us-east-1",
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        DAGSTER_URL_ENV: f"http://127.0.0.1:{port}/graphql",
        "EXTRACTION_SENSOR_INTERVAL_SECONDS": "2",
        **SLOW_MACHINE_ENV,
        "EXTRACTION_EXECUTOR": "celery",
        "EXTRACTION_CELERY_BROKER": broker,
        "EXTRACTION_CELERY_BACKEND": "rpc://",
        "EXTRACTION_CELERY_QUEUE": queue,
        "EXTRACTION_CELERY_CONSUMER_TIMEOUT_SECONDS": str(TIMEOUT_S),
        "EXTRACTION_CELERY_SECONDS_PER_FILE": str(SECONDS_PER_FILE),
        "EXTRACTION_BATCH_WORKERS": "1",
        TEST_HOLD_DIR_ENV: str(hold_dir),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("EXTRACTION_BACKFILL_BATCH_SIZE", None)  # the 250 default: only the bound keeps steps short
    with servers(env, tmp_path, "127.0.0.1", port), DagsterInstance.from_config(str(home)) as instance:
        yield Stack(env, queue, hold_dir, instance)


@pytest.fixture
def local_workers(stack: Stack, tmp_path: Path):
    with workers(stack.env, stack.queue, tmp_path, [[], []]) as started:
        yield started


class Holder(threading.Thread):
    """Holds each requested file for its time, counted from when its extraction reaches the hold."""

    def __init__(self, hold_dir: Path, seconds: dict[str, float]) -> None:
        super().__init__(daemon=True)
        self.hold_dir, self.seconds, self.stopped = hold_dir, seconds, threading.Event()
        for name in seconds:
            (hold_dir / name).touch()

    def run(self) -> None:
        started: dict[str, float] = {}
        while not self.stopped.is_set():
            for name, hold in self.seconds.items():
                if name not in started and (self.hold_dir / f"{name}{HELD_SUFFIX}").exists():
                    started[name] = time.monotonic()
                if name in started and time.monotonic() - started[name] >= hold:
                    (self.hold_dir / name).unlink(missing_ok=True)
            time.sleep(0.1)

    def _pending(self) -> list[Path]:
        return [path for name in self.seconds if (path := self.hold_dir / name).exists()]

    def release_all(self) -> None:
        self.stopped.set()
        for path in self._pending():
            path.unlink(missing_ok=True)
        self.join(timeout=5)


def test_steps_sized_below_the_consumer_timeout_are_delivered_once(overdue, stack: Stack, local_workers, bucket, s3):
    names = [f"i{index:02d}-{'flange.pdf' if index % 2 else 'bracket.dxf'}" for index in range(FILES)]
    holder = Holder(stack.hold_dir, dict.fromkeys(names, HOLD_S))
    holder.start()
    try:
        for name in names:
            s3.put_object(Bucket=bucket, Key=f"import/{name}", Body=(SAMPLES / name.split("-", 1)[1]).read_bytes())
        launched = cli(stack.env, "bulk-import", f"s3://{bucket}/import/", "--no-wait")
        assert launched.returncode == 0, launched.stdout + launched.stderr
        expected_runs = FILES // 2

        def all_runs_finished() -> list | None:
            runs = stack.instance.get_runs()
            return runs if len(runs) == expected_runs and all(run.is_finished for run in runs) else None

        wait_until(all_runs_finished, 480, f"{expected_runs} runs to finish", local_workers)
    finally:
        holder.release_all()
    runs = all_runs_finished() or []
    store = JobStore(stack.env["EXTRACTION_DATABASE_URL"])
    rows = store.list(limit=100)
    store.dispose()
    assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
    assert sorted(r.file_url.rsplit("/", 1)[1] for r in rows) == sorted(names)
    assert {r.status for r in rows} == {JobStatus.COMPLETED}
    assert sorted(Counter(r.dagster_run_id for r in rows).values()) == [2] * expected_runs  # not one step of 6
    # each step (≥ 16 s: more than two 5 s heartbeat intervals) was delivered once and succeeded once
    deliveries = Counter(task for worker in local_workers for task in worker.received())
    assert sorted(deliveries.values()) == [1] * expected_runs, deliveries
    successes = Counter(task for worker in local_workers for task in worker.succeeded())
    assert sorted(successes.values()) == [1] * expected_runs
    # the bare consumer that held its message past the timeout had its channel closed and the message back
    overdue.join(timeout=TIMEOUT_S + 40)
    assert overdue.outcome == ["closed: PRECONDITION_FAILED", "redelivered"], overdue.outcome
