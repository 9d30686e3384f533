"""``extraction-pipeline dev``: the whole stack on one machine with embedded defaults.

A moto S3 server on loopback stands in for S3/MinIO/B2, the table is a SQLite file under the state folder,
and ``dagster dev`` runs the webserver and the daemon against a persistent instance in
``<state>/dagster_home`` — the same code location, sensor and asset as production.

The stack owns the variables of what it starts (S3 endpoint, credentials, bucket, database, Dagster home and
URL): values left in the shell are overridden, and the banner says which. While it runs, ``<state>/dev.env``
holds those variables: the CLI reads it by itself inside the project folder, and the banner prints the same
as an ``export`` block for any other shell. Ctrl-C (or SIGTERM, SIGHUP) at any moment stops everything the stack
started and exits 0.

The S3 server's objects are kept under ``<state>/dev_s3`` (``extraction_pipeline.dev_s3``), so uploads outlive a
restart as the table's rows do. Logs are quiet by default: warnings of Dagster's services, no line per S3
request; ``--verbose`` shows both.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from extraction_pipeline import settings
from extraction_pipeline.cli.environment import dev_env_path, dev_stack_marker, write_env_file
from extraction_pipeline.cli.process_tree import StopSignals, stop_process_group

SAMPLES_DIR = Path(__file__).with_name("samples")
DEV_BUCKET = settings.DEFAULT_BUCKET
DEV_INSTANCE_YAML = """\
# Local development instance written by `extraction-pipeline dev` on every start (SQLite storage in this folder).
telemetry:
  enabled: false
nux:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    # The default 5 s between dequeues is most of a lone upload's wait on a laptop.
    dequeue_interval_seconds: 1
concurrency:
  runs:
    # Bulk-import runs take at most 2 slots (each extracts on every core), so an upload keeps the third.
    max_concurrent_runs: 3
    tag_concurrency_limits:
      - {key: extraction/reason, value: bulk-import, limit: 2}
      - {key: extraction/format, value: werk24, limit: 2}
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 60
"""
# S3 user metadata of the seeded samples: shows the PyBase record link travelling into the rows.
# After a stop signal: how long `dagster dev` gets to shut its services down in order (~18 s on a busy 2-core
# machine), then how long what is left of its process group (run workers in the middle of a run, code servers)
# gets after SIGTERM, before SIGKILL: orphaned code servers have been seen to ignore SIGTERM.
_ORDERLY_STOP_SECONDS = 30.0
_TERMINATE_GRACE_SECONDS = 3.0
_SAMPLE_LINK = {"record-id": "rec_sample", "field-id": "fld_drawings"}
# Variables that would send the stack's S3 calls elsewhere or sign them differently: removed while it runs.
_FOREIGN_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL_S3",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    settings.PREFIX_ENV,
)
# What a CLI in another shell needs to reach this stack (written to dev.env and printed as `export` lines):
# DAGSTER_HOME too, since `bulk-import` adds partitions to the instance directly.
_CLI_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", settings.REGION_ENV,
                  settings.BUCKET_ENV, settings.DATABASE_URL_ENV, settings.DAGSTER_URL_ENV, "DAGSTER_HOME")  # fmt: skip


def dev_environment(state: Path, s3_endpoint: str, ui_port: int) -> dict[str, str]:
    """The variables the dev stack sets (overriding the shell's)."""
    return {
        "DAGSTER_HOME": str(state / "dagster_home"),
        settings.ENDPOINT_ENV: s3_endpoint,
        "AWS_ACCESS_KEY_ID": "dev",
        "AWS_SECRET_ACCESS_KEY": "dev",
        "AWS_DEFAULT_REGION": "us-east-1",
        settings.REGION_ENV: "us-east-1",
        settings.BUCKET_ENV: DEV_BUCKET,
        settings.DATABASE_URL_ENV: f"sqlite:///{state / 'extraction_jobs.sqlite3'}",
        settings.SENSOR_INTERVAL_ENV: "5",
        settings.DAGSTER_URL_ENV: f"http://127.0.0.1:{ui_port}/graphql",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }


def apply_dev_environment(environ: MutableMapping[str, str], owned: dict[str, str]) -> list[str]:
    """Set ``owned`` in ``environ``, drop the foreign variables; returns one line per value of the shell replaced."""
    notes = [
        f"{name}={environ[name]} from your shell is replaced by {value}"
        for name, value in owned.items()
        if environ.get(name) not in (None, "", value)
    ]
    foreign = [name for name in _FOREIGN_VARIABLES if name in environ]
    notes += [f"{name}={environ.pop(name)} from your shell is ignored" for name in foreign]
    environ.update(owned)
    return notes


_QUIET_RUNS_YAML = """\
python_logs:
  # A run prints its info lines (a file extracted, in so many ms) and warnings, not a line per Dagster event; the
  # events are stored all the same (the UI shows them). `--verbose` leaves Dagster's default, every event.
  python_log_level: INFO
"""


def prepare_instance(dagster_home: Path, *, verbose: bool = False) -> None:
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(DEV_INSTANCE_YAML + ("" if verbose else _QUIET_RUNS_YAML))


def seed_bucket(client: object, bucket: str, samples: Path = SAMPLES_DIR) -> list[str]:
    from extraction_pipeline.s3 import ensure_bucket, upload_file

    ensure_bucket(client, bucket)
    return [
        upload_file(
            client, path, bucket, f"samples/{path.name}", metadata=_SAMPLE_LINK | {"attachment-id": path.stem}
        ).file_url
        for path in sorted(samples.iterdir())
        if path.is_file() and not path.name.startswith(".")
    ]


def dagster_dev_command(ui_port: int, *, verbose: bool = False) -> list[str]:
    # Quiet by default: at "info" every sensor tick of every daemon is a line (hundreds in ten minutes).
    return [sys.executable, "-m", "extraction_pipeline.devstack",
            "-m", "extraction_pipeline.definitions", "-h", "127.0.0.1", "-p", str(ui_port),
            "--log-level", "info" if verbose else "warning"]  # fmt: skip


def run_dagster_dev(argv: list[str]) -> int:
    """``dagster dev`` without its noise: the notice that ``dg dev`` supersedes it, and "Aborted!" on Ctrl-C."""
    import warnings

    import click
    from dagster import SupersessionWarning
    from dagster._cli.dev import dev_command

    warnings.filterwarnings("ignore", category=SupersessionWarning)
    try:
        dev_command.main(argv, prog_name="dagster dev", standalone_mode=False)
    except click.Abort:  # Ctrl-C: dagster dev has already shut its services down
        return 0
    return 0


def run_dev_stack(*, ui_port: int, s3_port: int, seed: bool, verbose: bool = False) -> int:
    """Run the stack until Ctrl-C, SIGTERM or SIGHUP (then 0), or until ``dagster dev`` exits (then its code).

    A stop signal at any moment, start-up included, ends everything the stack started within seconds.
    """
    signals = StopSignals().install()
    stack = _StartedProcesses()
    try:
        code = _run_until_stopped(stack, signals, ui_port=ui_port, s3_port=s3_port, seed=seed, verbose=verbose)
        signals.shield()
    except KeyboardInterrupt:
        signals.shield()
        code = 0  # stopped as asked, in order or not: nothing the stack started is left
    finally:
        signals.shield()
        stack.stop()
    return code


class _StartedProcesses:
    """What the stack has started so far, for stopping it from wherever start-up was interrupted."""

    def __init__(self) -> None:
        self.s3_server: Any = None
        self.dagster_dev: subprocess.Popen | None = None
        self.env_file: Path | None = None

    def stop(self) -> None:
        if self.dagster_dev is not None:
            if self.dagster_dev.poll() is None:
                print("\nstopping the dev stack…", flush=True)
            orderly = stop_process_group(
                self.dagster_dev,
                interrupt_grace_seconds=_ORDERLY_STOP_SECONDS,
                terminate_grace_seconds=_TERMINATE_GRACE_SECONDS,
            )
            if not orderly:
                print(f"dagster dev did not stop within {_ORDERLY_STOP_SECONDS:.0f} s: its processes were killed")
        if self.env_file is not None:
            self.env_file.unlink(missing_ok=True)
        if self.s3_server is not None:
            self.s3_server.stop()  # after dagster dev: nothing writes to the bucket during its last copy


def _run_until_stopped(
    stack: _StartedProcesses, signals: StopSignals, *, ui_port: int, s3_port: int, seed: bool, verbose: bool
) -> int:
    from extraction_pipeline.cli.connections import s3_client
    from extraction_pipeline.dev_s3 import DevS3
    from extraction_pipeline.s3 import ensure_bucket
    from extraction_pipeline.store.migrate import upgrade_database

    state = settings.state_dir()
    state.mkdir(parents=True, exist_ok=True)
    dev_stack_marker().write_text("a dev stack (`extraction-pipeline dev`) keeps its state in this folder\n")
    endpoint = f"http://127.0.0.1:{s3_port}"
    notes = apply_dev_environment(os.environ, dev_environment(state, endpoint, ui_port))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    prepare_instance(dagster_home, verbose=verbose)
    stack.s3_server = DevS3(state / "dev_s3", port=s3_port, verbose=verbose)
    restored = stack.s3_server.start(s3_client)
    upgrade_database(settings.database_url())
    client = s3_client()
    ensure_bucket(client, DEV_BUCKET)  # with --no-seed too: the banner's `upload` needs the bucket
    seeded = seed_bucket(client, DEV_BUCKET) if seed else []
    values = {name: os.environ[name] for name in _CLI_VARIABLES}
    stack.env_file = dev_env_path()
    write_env_file(
        stack.env_file, values, comment="written by `extraction-pipeline dev` while it runs (read by the CLI)"
    )
    with _foreground_process_group():
        # Its own session: Ctrl-C reaches this process only, which asks `dagster dev` to shut down in order
        # (typed at every process of the stack at once, it leaves tracebacks of run workers behind); everything
        # `dagster dev` starts stays in that session's process group, which the stop ends as a whole.
        # Started in the Dagster home: `dagster dev` warns about the repository's production dagster.yaml otherwise.
        with signals.deferred():
            stack.dagster_dev = subprocess.Popen(
                dagster_dev_command(ui_port, verbose=verbose),
                env=os.environ.copy(),
                cwd=dagster_home,
                start_new_session=True,
            )
        print_banner(ui_port, endpoint, seeded, notes, restored=restored)
        return stack.dagster_dev.wait()


@contextlib.contextmanager
def _foreground_process_group() -> Iterator[None]:
    """Move this process (and what it starts) into its own foreground process group of the terminal.

    Ctrl-C then reaches the stack but not ``make``, which would otherwise die of the signal itself (exit
    130, "Interrupt") even though the stack shut down cleanly. Without a terminal nothing changes.
    """
    terminal = _controlling_terminal()
    if terminal is None:
        yield
        return
    previous = os.tcgetpgrp(terminal)
    os.setpgid(0, 0)
    _set_foreground(terminal, os.getpgrp())
    try:
        yield
    finally:
        _set_foreground(terminal, previous)
        os.close(terminal)


def _controlling_terminal() -> int | None:
    try:
        terminal = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return None
    if os.tcgetpgrp(terminal) != os.getpgrp() or os.getpid() == os.getsid(0):
        os.close(terminal)  # in the background, or already a session leader: leave the terminal alone
        return None
    return terminal


def _set_foreground(terminal: int, group: int) -> None:
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may not change it otherwise
    try:
        with contextlib.suppress(OSError):
            os.tcsetpgrp(terminal, group)
    finally:
        signal.signal(signal.SIGTTOU, previous)


def print_banner(ui_port: int, endpoint: str, seeded: list[str], notes: list[str], *, restored: int = 0) -> None:
    exports = [f"export {name}={shlex.quote(os.environ[name])}" for name in _CLI_VARIABLES]
    venv_bin = Path(sys.executable).parent
    lines = [
        "",
        "extraction_pipeline dev stack",
        f"  Dagster UI     http://127.0.0.1:{ui_port}  (asset file_extraction, job extract_files)",
        f"  S3 endpoint    {endpoint}  bucket {DEV_BUCKET}  ({len(seeded)} sample file(s) seeded, "
        f"{restored} object(s) kept from the last run)",
        f"  S3 objects     kept in {settings.state_dir() / 'dev_s3'} (they survive a restart)",
        f"  jobs table     {os.environ[settings.DATABASE_URL_ENV]}",
        f"  Dagster home   {os.environ['DAGSTER_HOME']}",
        *(f"  note: {note}" for note in notes),
        "",
        f"  In this folder the CLI finds the stack by itself ({dev_env_path()}). In any other shell, paste:",
        f'    export PATH="{venv_bin}:$PATH"',
        *(f"    {line}" for line in exports),
        "  then:",
        "    extraction-pipeline upload --wait FILE   # extracted within a sensor tick or two; prints the outcome",
        "    extraction-pipeline jobs list            # rows of extraction_jobs",
        "",
        "  Logs: a line or two per extracted file and warnings (`extraction-pipeline dev --verbose`: every S3 request,",
        "        sensor tick and run event).",
        "  Ctrl-C stops everything started here.",
        "",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(run_dagster_dev(sys.argv[1:]))
