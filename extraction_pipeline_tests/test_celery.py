"""Celery workers on two other hosts (network namespaces), one of them lost mid-step, as docs/celery.md deploys them.

Two workers run in their own network namespaces, joined to this one by veth pairs: they reach RabbitMQ (a
``celery_…`` user and vhost the test creates with ``rabbitmqctl`` and deletes), PostgreSQL (the Dagster instance
and the ``extraction_jobs`` table), the S3 server and the webserver over a non-loopback address only. The machine's
RabbitMQ and PostgreSQL listen on 127.0.0.1 only, so the test relays their ports from that address
(``netns.Forwarder``, test infrastructure); the S3 server and the webserver listen on it directly.

A burst (the sensor's runs over more new uploads than its threshold) and a bulk import (a backfill) run across
both workers, in steps sized by the consumer-timeout bound (``EXTRACTION_CELERY_SECONDS_PER_FILE``), not by the
250-file batch size. A held extraction (``EXTRACTION_TEST_HOLD_DIR``) makes "a worker in the middle of a step"
certain before it is SIGKILLed; its step is redelivered to the other worker (late acknowledgement).

Root and ``ip`` are needed, and RabbitMQ and PostgreSQL: skipped with the reason otherwise, failed instead under
``EXTRACTION_REQUIRE_RABBITMQ=1`` (``.ci/run``).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus
from moto.server import ThreadedMotoServer
from sqlalchemy import create_engine, make_url, text

from extraction_pipeline.extractors.hold import TEST_HOLD_DIR_ENV
from extraction_pipeline.operations import DAGSTER_URL_ENV
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline_tests import netns
from extraction_pipeline_tests.celery_stack import (
    BIN,
    SLOW_MACHINE_ENV,
    cli,
    holding_worker,
    servers,
    wait_until,
    workers,
)
from extraction_pipeline_tests.conftest import s3_client
from extraction_pipeline_tests.harness import pipeline_env
from extraction_pipeline_tests.live_stack import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "extraction_pipeline" / "samples"
REQUIRE_RABBITMQ = os.environ.get("EXTRACTION_REQUIRE_RABBITMQ") == "1"
FILES = 4  # per scenario: more than the sensor's burst threshold (set to 2 here)
STEP_FILES = 2  # 1800 s consumer timeout x 0.5 / 450 s per file
HELD_FILE = "i02-bracket.dxf"  # the backfill's second step: its worker is certainly mid-step when it is killed
_INSTANCE_YAML = """\
telemetry:
  enabled: false
storage:
  postgres:
    postgres_url: "{url}"
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
"""


def _unavailable_reason() -> str | None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=3).close()
    except OSError as error:
        return f"RabbitMQ not reachable at 127.0.0.1:5672: {error}"
    return netns.unavailable_reason()


@dataclass
class Broker:
    url: str  # as the workers reach it: the relayed address, the test's own user and vhost
    vhost: str


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=120)


@pytest.fixture
def hosts() -> Iterator[list[netns.Host]]:
    reason = _unavailable_reason()
    if reason:
        if REQUIRE_RABBITMQ:
            pytest.fail(f"EXTRACTION_REQUIRE_RABBITMQ=1 but {reason}")
        pytest.skip(reason)
    with netns.hosts(2) as made:
        yield made


@pytest.fixture
def service_address(hosts: list[netns.Host]) -> str:
    """An address of this namespace both hosts route to; no loopback."""
    return hosts[0].gateway


@pytest.fixture
def broker(service_address: str) -> Iterator[Broker]:
    name = f"celery_{uuid.uuid4().hex[:10]}"
    password = secrets.token_hex(12)
    _rabbitmqctl("add_vhost", name)
    relay = None
    try:
        _rabbitmqctl("add_user", name, password)
        _rabbitmqctl("set_permissions", "-p", name, name, ".*", ".*", ".*")
        relay = netns.Forwarder(service_address, ("127.0.0.1", 5672))
        yield Broker(f"pyamqp://{name}:{password}@{service_address}:{relay.port}/{name}", name)
    finally:
        if relay:
            relay.close()
        subprocess.run(["rabbitmqctl", "-q", "delete_user", name], capture_output=True, timeout=120)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=120)


@pytest.fixture
def databases(postgres_server_url: str, service_address: str) -> Iterator[dict[str, str]]:
    """The Dagster instance's and the table's databases, reached through a relay on the service address."""
    names = {role: f"celery_{uuid.uuid4().hex[:10]}_{role}" for role in ("dagster", "jobs")}
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    server = make_url(postgres_server_url)
    relay = netns.Forwarder(service_address, (server.host or "127.0.0.1", server.port or 5432))
    try:
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        relayed = server.set(host=service_address, port=relay.port)
        yield {role: relayed.set(database=name).render_as_string(hide_password=False) for role, name in names.items()}
    finally:
        relay.close()
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def s3_endpoint(service_address: str) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address=service_address, port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Stack:
    env: dict[str, str]
    queue: str
    hold_dir: Path
    instance: DagsterInstance
    bucket: str


@pytest.fixture
def stack(tmp_path: Path, service_address: str, broker: Broker, databases: dict[str, str], s3_endpoint: str):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(_INSTANCE_YAML.format(url=databases["dagster"]))
    upgrade_database(databases["jobs"])
    bucket = f"uploads-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=bucket)
    queue = f"extraction-test-{uuid.uuid4().hex[:10]}"
    hold_dir = tmp_path / "hold"
    hold_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        # the sensor watches watched/ (the burst); the bulk import reads import/
        **pipeline_env(s3_endpoint, bucket, databases["jobs"], EXTRACTION_S3_PREFIX="watched/"),
        "AWS_REGION": "us-east-1",
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        DAGSTER_URL_ENV: f"http://{service_address}:{port}/graphql",
        "EXTRACTION_SENSOR_INTERVAL_SECONDS": "2",
        **SLOW_MACHINE_ENV,
        "EXTRACTION_EXECUTOR": "celery",
        "EXTRACTION_CELERY_BROKER": broker.url,
        "EXTRACTION_CELERY_BACKEND": "rpc://",
        "EXTRACTION_CELERY_QUEUE": queue,
        "EXTRACTION_CELERY_SECONDS_PER_FILE": "450",  # with the default 1800 s timeout: 2 files per step
        "EXTRACTION_SENSOR_BATCH_THRESHOLD": "2",
        TEST_HOLD_DIR_ENV: str(hold_dir),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-celery starts this environment's celery
    }
    env.pop("EXTRACTION_BACKFILL_BATCH_SIZE", None)  # the 250 default: the consumer-timeout bound sizes the steps
    with servers(env, tmp_path, service_address, port), DagsterInstance.from_config(str(home)) as instance:
        yield Stack(env, queue, hold_dir, instance, bucket)


@pytest.fixture
def remote_workers(stack: Stack, hosts: list[netns.Host], tmp_path: Path):
    with workers(stack.env, stack.queue, tmp_path, [host.command() for host in hosts]) as started:
        yield started


def test_workers_on_two_hosts_share_a_burst_and_a_backfill_and_survive_losing_one(stack: Stack, remote_workers):
    s3 = s3_client(stack.env["AWS_ENDPOINT_URL"])
    for index in range(FILES):
        sample = SAMPLES / ("flange.pdf" if index % 2 else "bracket.dxf")
        s3.put_object(Bucket=stack.bucket, Key=f"import/i{index:02d}-{sample.name}", Body=sample.read_bytes())
    release = stack.hold_dir / HELD_FILE
    release.touch()
    try:
        launched = cli(stack.env, "bulk-import", f"s3://{stack.bucket}/import/", "--no-wait")
        assert launched.returncode == 0, launched.stdout + launched.stderr
        for index in range(FILES):  # a burst for the sensor, while the backfill runs
            sample = SAMPLES / ("flange.pdf" if index % 2 else "bracket.dxf")
            s3.put_object(Bucket=stack.bucket, Key=f"watched/b{index:02d}-{sample.name}", Body=sample.read_bytes())
        wait_until(lambda: holding_worker(stack.hold_dir, HELD_FILE, remote_workers), 300,
                   f"a worker extracting {HELD_FILE}", remote_workers)  # fmt: skip
        victim = holding_worker(stack.hold_dir, HELD_FILE, remote_workers)
        assert victim is not None
        survivor = next(w for w in remote_workers if w is not victim)
        [lost_task] = victim.in_progress()
        victim.kill()  # the worker and its sandbox child, mid-step: a lost host
    finally:
        release.unlink()

    expected_runs = 2 * FILES // STEP_FILES

    def all_runs_finished() -> list | None:
        runs = stack.instance.get_runs()  # this test's instance: its runs only
        return runs if len(runs) == expected_runs and all(run.is_finished for run in runs) else None

    runs = wait_for(f"{expected_runs} runs to finish", all_runs_finished, 600, 1.0)
    store = JobStore(stack.env["EXTRACTION_DATABASE_URL"])
    rows = store.list(limit=100)
    store.dispose()
    names = sorted(r.file_url.rsplit("/", 1)[1] for r in rows)
    assert len(names) == len(set(names)) == 2 * FILES  # one row per file
    assert {r.status for r in rows} == {JobStatus.COMPLETED}
    assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
    # steps of 2 files, not 250: both scenarios split by the consumer-timeout bound
    assert sorted(Counter(r.dagster_run_id for r in rows).values()) == [STEP_FILES] * expected_runs
    assert {r.dagster_run_id for r in rows} == {run.run_id for run in runs}
    assert len([r for r in runs if "dagster/backfill" in r.tags]) == FILES // STEP_FILES
    # the killed worker's step was redelivered to the other host and finished there; every step succeeded once
    assert lost_task in survivor.succeeded()
    succeeded = victim.succeeded() + survivor.succeeded()
    assert len(succeeded) == len(set(succeeded)) == expected_runs
    assert "127.0.0.1" not in victim.text() + survivor.text()


def test_the_hosts_see_the_servers_only_on_the_service_address(hosts: list[netns.Host], service_address: str) -> None:
    relay = netns.Forwarder(service_address, ("127.0.0.1", 5432))
    try:
        for host in hosts:
            assert not _reaches(host, "127.0.0.1", 5432)  # the machine's PostgreSQL: loopback of another host
            assert _reaches(host, service_address, relay.port)
    finally:
        relay.close()


def _reaches(host: netns.Host, address: str, port: int) -> bool:
    probe = f"exec 3<>/dev/tcp/{address}/{port}"
    return subprocess.run(host.command("bash", "-c", probe), capture_output=True, timeout=30).returncode == 0
