"""Stopping a tree of processes for certain: the stop signals a long-running command obeys, and ending a
process group whose members may ignore SIGTERM.

``extraction-pipeline dev`` starts ``dagster dev`` in its own session; the webserver, the daemon, the code servers
and the run workers it starts all stay in that session's process group (Dagster starts them without a new group),
so one ``killpg`` reaches every one of them, also after ``dagster dev`` itself is gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopSignals:
    """Ctrl-C, SIGTERM and SIGHUP all stop the command the way Ctrl-C does: one ``KeyboardInterrupt``, once.

    A second signal never cuts the shutdown short, and none arrives in the middle of a ``deferred()`` section
    (starting a child whose handle must not be lost): it is raised when the section ends.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._raising = True

    def install(self) -> StopSignals:
        for number in STOP_SIGNALS:
            signal.signal(number, self._handle)
        return self

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        if self.received is not None:
            return
        self.received = number
        if self._raising:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self._raising = False
        try:
            yield
        finally:
            self._raising = True
        if self.received is not None:
            raise KeyboardInterrupt

    def shield(self) -> None:
        """From now on a stop signal is only recorded: the caller is already stopping."""
        self._raising = False


def stop_process_group(
    leader: subprocess.Popen, *, interrupt_grace_seconds: float, terminate_grace_seconds: float
) -> bool:
    """End ``leader`` (started with ``start_new_session=True``) and everything in its process group.

    SIGINT to the leader first (an orderly shutdown of what it runs), then SIGTERM and finally SIGKILL to the
    whole group, each after its grace. Returns True when the leader stopped in order on SIGINT.
    """
    orderly = True
    if leader.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            leader.send_signal(signal.SIGINT)
        try:
            leader.wait(timeout=interrupt_grace_seconds)
        except subprocess.TimeoutExpired:
            orderly = False
    group = leader.pid  # a session leader's pid is its group's id
    for number, grace in ((signal.SIGTERM, terminate_grace_seconds), (signal.SIGKILL, terminate_grace_seconds)):
        if not _signal_group(group, number):
            break
        if _group_ended(group, leader, grace):
            break
    leader.poll()
    return orderly


def _signal_group(group: int, number: int) -> bool:
    try:
        os.killpg(group, number)
    except ProcessLookupError:
        return False
    return True


def _group_ended(group: int, leader: subprocess.Popen, grace: float) -> bool:
    deadline = time.monotonic() + grace
    while True:
        leader.poll()  # reap the leader: a zombie still counts as a member of the group
        if not _signal_group(group, 0):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
