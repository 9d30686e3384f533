"""The production stack on one machine, with a hand on every plug: for the chaos run (``chaos_harness``).

Real parts, started here: a private PostgreSQL cluster (``PrivatePostgres``) holding both the Dagster instance
(dagster-postgres) and the ``extraction_jobs`` table; a moto S3 server behind a fault proxy (``TcpProxy``) that
the pipeline reaches as its S3 endpoint; ``dagster-daemon run`` and ``dagster-webserver`` subprocesses started from
a ``DAGSTER_HOME`` holding the repo's ``dagster.yaml`` and ``workspace.yaml``. Each can be killed with SIGKILL and
started again; a run worker is found through the test-only hold (``extractors/hold.py``) and killed mid-step.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import yaml
from dagster import DagsterInstance

from extraction_pipeline.extractors.hold import HELD_SUFFIX, TEST_HOLD_DIR_ENV
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline_tests.faults import TcpProxy
from extraction_pipeline_tests.live_stack import answers, free_port, stop_process_groups, wait_for
from extraction_pipeline_tests.private_postgres import PrivatePostgres

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_SECONDS = 180.0
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


def instance_yaml() -> str:
    """The repo's ``dagster.yaml``, with the run queue checked every second (as the live benchmarks do)."""
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config["run_coordinator"]["config"] = {"dequeue_interval_seconds": 1}
    return yaml.safe_dump(config, sort_keys=False)


class ChaosStack:
    """Start with ``start()``, stop with ``stop()`` (always: it also ends what the faults orphaned)."""

    def __init__(self, settings: dict[str, str]) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="chaos-stack-"))
        self.home = self.root / "dagster_home"
        self.hold_dir = self.root / "hold"
        self.settings = settings
        self.bucket = f"chaos-{uuid.uuid4().hex[:8]}"
        self.postgres: PrivatePostgres | None = None
        self.proxy: TcpProxy | None = None
        self._moto: Any = None
        self.moto_endpoint = ""
        self.dagster_url = ""
        self.jobs_url = ""
        self.env: dict[str, str] = {}
        self.webserver_port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self._all_processes: list[subprocess.Popen] = []
        self._logs: list[Any] = []

    # --- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        self.home.mkdir(parents=True)
        self.hold_dir.mkdir()
        self.postgres = PrivatePostgres()
        self.postgres.start()
        self.dagster_url = self.postgres.create_database("chaos_dagster")
        self.jobs_url = self.postgres.create_database("chaos_jobs")
        upgrade_database(self.jobs_url)
        self._start_s3()
        (self.home / "dagster.yaml").write_text(instance_yaml())
        shutil.copy(REPO_ROOT / "workspace.yaml", self.home / "workspace.yaml")
        self.env = self._server_env()
        self.start_server("webserver")
        self.start_server("daemon")
        self.wait_for_webserver()

    def _start_s3(self) -> None:
        from moto.server import ThreadedMotoServer

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.moto_endpoint = f"http://{host}:{port}"
        self.proxy = TcpProxy(host, port)
        self.uploader().create_bucket(Bucket=self.bucket)

    def _server_env(self) -> dict[str, str]:
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("EXTRACTION_", "DAGSTER_", "AWS_", "COV_", "COVERAGE_"))
        }
        assert self.proxy is not None
        return {
            **inherited,
            **CREDENTIALS,
            "DAGSTER_HOME": str(self.home),
            "DAGSTER_POSTGRES_URL": self.dagster_url,
            "EXTRACTION_DATABASE_URL": self.jobs_url,
            "EXTRACTION_S3_BUCKET": self.bucket,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.proxy.port}",  # the product sees S3 through the faults
            TEST_HOLD_DIR_ENV: str(self.hold_dir),
            **self.settings,
        }

    def stop(self) -> None:
        stop_process_groups(self._all_processes, timeout=20)
        for log in self._logs:
            log.close()
        if self.proxy is not None:
            self.proxy.close()
        if self._moto is not None:
            with contextlib.suppress(Exception):
                self._moto.stop()
        if self.postgres is not None:
            self.postgres.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)

    # --- the servers ---------------------------------------------------------------------------------
    def start_server(self, name: str) -> None:
        port = str(self.webserver_port)
        commands = {
            "webserver": [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", port],
            "daemon": [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        }
        log = (self.root / f"{name}.log").open("ab")
        self._logs.append(log)
        process = subprocess.Popen(commands[name], cwd=self.home, env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self.processes[name] = process
        self._all_processes.append(process)

    def kill_server(self, name: str) -> None:
        """SIGKILL the server's own process only, as a crash does: what it started is left to fend for itself."""
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def wait_for_webserver(self, timeout: float = STARTUP_TIMEOUT_SECONDS) -> None:
        wait_for("the webserver", lambda: answers(f"http://127.0.0.1:{self.webserver_port}/server_info"), timeout)

    def server_log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    # --- run workers ---------------------------------------------------------------------------------
    def hold(self, filename: str) -> None:
        (self.hold_dir / filename).write_text("")

    def held_worker(self, filename: str) -> int | None:
        """The run worker whose sandbox child holds ``filename``, once it is held: the child's ancestor that the
        code server started (the default run launcher's worker is a child of the code server)."""
        try:
            pid: int | None = int((self.hold_dir / f"{filename}{HELD_SUFFIX}").read_text())
        except (OSError, ValueError):
            return None
        while pid:
            parent = _parent_of(pid)
            if parent is None or parent <= 1:
                return None
            if b"grpc" in _cmdline(parent):
                return pid
            pid = parent
        return None

    def kill_worker(self, filename: str) -> int:
        """SIGKILL the run worker holding ``filename`` and everything it started (a lost worker machine)."""
        worker = self.held_worker(filename)
        assert worker is not None, f"no run worker holds {filename}"
        for pid in [worker, *_descendants(worker)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        (self.hold_dir / filename).unlink(missing_ok=True)
        return worker

    # --- clients -------------------------------------------------------------------------------------
    def uploader(self) -> Any:
        """PyBase's side: uploads go to S3 itself, not through the pipeline's faulty endpoint."""
        return boto3.client("s3", endpoint_url=self.moto_endpoint, **_boto_credentials())

    @contextlib.contextmanager
    def instance(self) -> Iterator[DagsterInstance]:
        previous = os.environ.get("DAGSTER_POSTGRES_URL")
        os.environ["DAGSTER_POSTGRES_URL"] = self.dagster_url
        try:
            with DagsterInstance.from_config(str(self.home)) as instance:
                yield instance
        finally:
            if previous is None:
                os.environ.pop("DAGSTER_POSTGRES_URL", None)
            else:
                os.environ["DAGSTER_POSTGRES_URL"] = previous


def _boto_credentials() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _descendants(root: int) -> list[int]:
    parents = {pid: _parent_of(pid) for pid in _pids()}
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            return int(stat_file.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
