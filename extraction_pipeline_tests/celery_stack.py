"""A Celery-mode stack for tests: dagster-webserver, dagster-daemon and Celery workers (optionally on other hosts).

The workers are started as docs/celery.md says: ``dagster-celery worker start -y deploy/celery.yaml -A
dagster_celery.app -q <queue> -- --pool threads --concurrency 1``, with the broker and backend in the environment.
Their logs tell which step (Celery task) each one received and finished.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from extraction_pipeline.extractors.hold import HELD_SUFFIX
from extraction_pipeline_tests.live_stack import answers, assert_servers_stopped_cleanly, stop_process_groups, wait_for

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKER_YAML = ROOT / "deploy" / "celery.yaml"
# A stack, two workers and their run workers on a shared 2-core machine: code-server calls can outlast Dagster's
# 60 s default and fail runs that would otherwise finish.
SLOW_MACHINE_ENV = {"DAGSTER_GRPC_TIMEOUT_SECONDS": "300"}
WORKER_POOL = ("--pool", "threads", "--concurrency", "1")  # as docs/celery.md starts workers
_RECEIVED = re.compile(r"Task \S*execute_plan\[([0-9a-f-]+)\] received")
_SUCCEEDED = re.compile(r"Task \S*execute_plan\[([0-9a-f-]+)\] succeeded")


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
        os.killpg(self.process.pid, signal.SIGKILL)  # the worker, its celery child and sandbox: a lost machine
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


@contextmanager
def servers(env: dict[str, str], logs_dir: Path, host: str, port: int) -> Iterator[None]:
    """dagster-webserver on ``host:port`` and dagster-daemon, on the code location (module), until exit."""
    location = ["-m", "extraction_pipeline.definitions"]
    logs = {name: logs_dir / f"{name}.log" for name in ("webserver", "daemon")}
    commands = {
        "webserver": [str(BIN / "dagster-webserver"), "-h", host, "-p", str(port), *location],
        "daemon": [str(BIN / "dagster-daemon"), "run", *location],
    }
    processes = {}
    for name, command in commands.items():
        with logs[name].open("wb") as out:
            processes[name] = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                               start_new_session=True)  # fmt: skip
    try:
        wait_for("the webserver", lambda: answers(f"http://{host}:{port}/server_info"), 180)
        yield
    finally:
        codes = stop_process_groups(list(processes.values()), timeout=30)
    assert_servers_stopped_cleanly(logs, {name: codes[process.pid] for name, process in processes.items()})


@contextmanager
def workers(
    env: dict[str, str], queue: str, logs_dir: Path, prefixes: Sequence[Sequence[str]]
) -> Iterator[list[Worker]]:
    """One worker per entry of ``prefixes`` (the command prefix of its host, e.g. ``ip netns exec …``)."""
    started: list[Worker] = []
    try:
        for index, prefix in enumerate(prefixes):
            name = f"extract-{'abcdefgh'[index]}"
            log = logs_dir / f"{name}.log"
            command = [*prefix, str(BIN / "dagster-celery"), "worker", "start", "-y", str(WORKER_YAML),
                       "-A", "dagster_celery.app", "-n", name, "-q", queue, "--", *WORKER_POOL]  # fmt: skip
            with log.open("wb") as out:
                process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                           start_new_session=True)  # fmt: skip
            started.append(Worker(name, process, log))
        wait_until(lambda: all(" ready." in w.text() for w in started), 120, "workers ready", started)
        yield started
    finally:
        for worker in started:
            worker.stop()


def wait_until(condition: Callable[[], object], timeout: float, what: str, watched: list[Worker]) -> None:
    """Wait for ``condition``; fail early, with the workers' logs, when one of them exits unasked."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(w.process.poll() is None or w.killed for w in watched):
        if condition():
            return
        time.sleep(0.1)
    logs = "\n".join(f"--- {w.name}\n{w.text()[-3000:]}" for w in watched)
    raise AssertionError(f"no {what} within {timeout} s (or a worker exited)\n{logs}")


def holding_worker(hold_dir: Path, filename: str, candidates: list[Worker]) -> Worker | None:
    """The worker whose sandbox child holds ``filename``: the child is in the worker's process group."""
    marker = hold_dir / f"{filename}{HELD_SUFFIX}"
    if not marker.exists() or not marker.read_text():
        return None
    group = os.getpgid(int(marker.read_text()))
    return next((w for w in candidates if w.process.pid == group), None)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "extraction-pipeline"), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done
