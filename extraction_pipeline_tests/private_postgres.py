"""A PostgreSQL server of one's own (initdb into a temporary folder, a random port) that a test may SIGKILL.

The machine's shared server on 127.0.0.1:5432 serves other tests and jobs; killing it would break them. This one
is created by ``initdb``, started and restarted with ``pg_ctl``, and crashed with SIGKILL on its postmaster, as an
OOM killer or a lost database host does. PostgreSQL refuses to run as root, so under root every command runs as
the ``postgres`` system user (``runuser``) in a folder that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from extraction_pipeline_tests.live_stack import free_port

SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries here, or no user they may run as."""


def postgres_bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        found = shutil.which("initdb")
        if not found:
            raise PostgresUnavailable("no initdb (install PostgreSQL's server binaries)")
        return Path(found).parent
    return Path(candidates[-1]).parent


class PrivatePostgres:
    """One throw-away cluster: ``start()``, ``kill()`` (SIGKILL), ``restart()`` (pg_ctl), ``stop()``."""

    def __init__(self) -> None:
        self.bin = postgres_bin_dir()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            try:
                self._user = pwd.getpwnam(SERVER_USER)
            except KeyError as error:
                raise PostgresUnavailable(f"running as root and there is no {SERVER_USER!r} user") from error
        self.root = Path(tempfile.mkdtemp(prefix="chaos-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        if self._as_root:
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def start(self, timeout: float = 60.0) -> None:
        """``pg_ctl start``; after a SIGKILL the old backends may still hold shared memory for a moment: retry."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off -c max_connections=300"
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "30", "start")
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        """SIGKILL the postmaster: every connection drops, nothing is shut down cleanly."""
        pid = self.postmaster_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def restart(self) -> None:
        self.start()

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.root)
