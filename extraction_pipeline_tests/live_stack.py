"""Start and stop real server processes in tests (dagster-webserver, dagster-daemon, workers) and wait on them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def stop_process_groups(processes: list[subprocess.Popen], timeout: float = 10.0) -> dict[int, int]:
    """SIGTERM each process group we started, SIGKILL what outlives ``timeout``; returns pid -> exit code.

    Each server runs in its own session (``start_new_session=True``), so the code servers it started are in
    its group and go with it.
    """
    running = [p for p in processes if p.poll() is None]
    for process in running:
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    codes = {process.pid: process.returncode for process in processes}
    for process in processes:  # code servers that outlived their parent
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return codes


def living_processes(*, environ_entry: str | None = None, process_group: int | None = None) -> list[int]:
    """Pids of the live (not zombie) processes that have ``environ_entry`` (``NAME=value``) in their environment
    or belong to ``process_group``: what a stack left behind, whoever their parent is now (Linux /proc)."""
    found = []
    needle = environ_entry.encode() if environ_entry else None
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat_file:
                fields = stat_file.read().rsplit(b")", 1)[1].split()
            if fields[0] == b"Z":
                continue
            if process_group is not None and int(fields[2]) == process_group:
                found.append(int(entry))
            elif needle is not None:
                with open(f"/proc/{entry}/environ", "rb") as environ_file:
                    if needle in environ_file.read().split(b"\0"):
                        found.append(int(entry))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


_TRACEBACK = "Traceback (most recent call last):"
_DAEMON_STOPPING = "Received interrupt, shutting down daemon threads"


def assert_servers_stopped_cleanly(logs: dict[str, Path], codes: dict[str, int | None]) -> None:
    """After ``stop_process_groups``: no server logged a Python traceback while it ran, and each exited 0 or by
    SIGTERM."""
    for name, path in logs.items():
        text = _log_while_running(path)
        assert "Traceback" not in text, f"{name} logged a traceback:\n{text[-3000:]}"
        assert codes.get(name) in (0, -15), f"{name} exited {codes.get(name)}:\n{text[-3000:]}"


def _log_while_running(log: Path) -> str:
    """The log up to the daemon's "shutting down", less the tracebacks of code servers our SIGTERM interrupted.

    The daemon starts code servers in its process group, and all of them get the SIGTERM at once. On a loaded
    machine a code server may still be loading the code location (it prints the interrupt it was sent), and a
    sensor tick of the daemon, still shutting its threads down, may find its code server already gone. Neither is
    about the pipeline; any other traceback stays.
    """
    text = log.read_text(errors="replace").split(_DAEMON_STOPPING)[0]
    head, *blocks = text.split(_TRACEBACK)
    interrupted = ("DagsterExecutionInterruptedError", "_new_signal_handler")
    kept = [block for block in blocks if not all(mark in block for mark in interrupted)]
    return _TRACEBACK.join([head, *kept])
