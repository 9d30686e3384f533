"""``extraction-pipeline dev`` as a newcomer meets it: in a terminal, with leftovers in the shell, then Ctrl-C.

The end-to-end test runs the real stack in a pseudo-terminal under ``sh`` (as ``make dev`` runs it), pastes the
banner's ``export`` block into fresh shells, asks the webserver whether it would show the community dialog,
and stops everything with Ctrl-C.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from extraction_pipeline.cli.process_tree import stop_process_group
from extraction_pipeline.devstack import DEV_INSTANCE_YAML, apply_dev_environment, dev_environment
from extraction_pipeline.names import TAG_REASON
from extraction_pipeline_tests.live_stack import free_port, living_processes, wait_for

BIN = Path(sys.executable).parent
SAMPLES = Path(__file__).resolve().parents[1] / "extraction_pipeline" / "samples"
NOISE = ("Traceback", "Aborted!", "SupersessionWarning", "BetaWarning", "PreviewWarning",
         "Found a dagster instance configuration", "make: ***", "Telemetry")  # fmt: skip


def test_the_stack_owns_its_variables_and_says_which_it_overrides(tmp_path: Path) -> None:
    shell = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_PROFILE": "prod", "EXTRACTION_S3_BUCKET": "uploads",
             "AWS_ACCESS_KEY_ID": "dev", "EXTRACTION_TIMEOUT_SECONDS": "30"}  # fmt: skip
    owned = dev_environment(tmp_path, "http://127.0.0.1:4566", 3000)

    notes = apply_dev_environment(shell, owned)

    assert notes == [
        "AWS_ENDPOINT_URL=http://127.0.0.1:9 from your shell is replaced by http://127.0.0.1:4566",
        "EXTRACTION_S3_BUCKET=uploads from your shell is replaced by extraction-uploads",
        "AWS_PROFILE=prod from your shell is ignored",
    ]
    assert shell["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566" and "AWS_PROFILE" not in shell
    assert shell["EXTRACTION_TIMEOUT_SECONDS"] == "30"  # a tunable the stack does not own is the user's
    assert shell["EXTRACTION_DAGSTER_URL"] == "http://127.0.0.1:3000/graphql"
    assert shell["EXTRACTION_DATABASE_URL"] == f"sqlite:///{tmp_path / 'extraction_jobs.sqlite3'}"


def test_the_dev_instance_has_no_community_dialog_and_no_telemetry() -> None:
    import yaml

    config = yaml.safe_load(DEV_INSTANCE_YAML)
    assert config["nux"] == {"enabled": False} and config["telemetry"] == {"enabled": False}


def test_a_bulk_import_on_the_dev_stack_leaves_a_run_slot_for_uploads() -> None:
    import yaml

    runs = yaml.safe_load(DEV_INSTANCE_YAML)["concurrency"]["runs"]
    bulk = [limit for limit in runs["tag_concurrency_limits"] if limit["value"] == "bulk-import"]
    assert bulk and bulk[0]["key"] == TAG_REASON and bulk[0]["limit"] < runs["max_concurrent_runs"]


@pytest.mark.parametrize(
    ("script", "orderly"),
    [
        # shuts down on SIGINT; the process it started is left for the group's SIGTERM
        ("trap 'exit 0' INT; sleep 600 & echo started; wait", True),
        # ignores SIGINT and SIGTERM, and so do its children (as orphaned code servers were seen to): SIGKILL
        ("trap '' INT TERM; sleep 600 & sleep 600 & echo started; wait", False),
    ],
)
def test_stopping_a_process_group_ends_every_member(script: str, orderly: bool) -> None:
    leader = subprocess.Popen(["sh", "-c", script], start_new_session=True, stdout=subprocess.PIPE, text=True)
    assert leader.stdout is not None and leader.stdout.readline() == "started\n"
    assert len(living_processes(process_group=leader.pid)) >= 2

    stopped_in_order = stop_process_group(leader, interrupt_grace_seconds=1, terminate_grace_seconds=1)

    assert stopped_in_order is orderly
    assert leader.returncode is not None
    wait_for("the group's last members to die", lambda: not living_processes(process_group=leader.pid), 10, 0.1)


class Terminal:
    """A command in a pseudo-terminal: what a user sees, and Ctrl-C typed at it."""

    def __init__(self, command: str, env: dict[str, str], cwd: Path) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a session leader whose controlling terminal is the pty
            os.chdir(cwd)
            os.execve("/bin/sh", ["sh", "-c", command], env)
        self.output = ""
        # Read all the time, as a user's terminal does: a pty nobody reads fills up, and the stack's next log
        # line then blocks the process that writes it (its S3 server included).
        self._closed = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.output += chunk.decode(errors="replace").replace("\r\n", "\n")
        self._closed.set()

    def read_until(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output)
            if match:
                return match
            self._read(0.5)
        raise AssertionError(f"no {pattern!r} within {timeout:.0f} s in:\n{self.output[-3000:]}")

    def _drain(self, seconds: float) -> None:
        """The output left in the terminal; bounded, since a process left behind may hold it open."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._read(0.1):
            pass

    def _read(self, wait: float) -> bool:
        """Give the reader ``wait`` seconds; False once the terminal is closed."""
        return not self._closed.wait(wait)

    def ctrl_c_and_wait(self, timeout: float) -> int:
        os.write(self.fd, b"\x03")
        return self.wait(timeout, "Ctrl-C")

    def wait(self, timeout: float, after: str) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._read(0.5)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._drain(seconds=5)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"still running {timeout:.0f} s after {after}:\n{self.output[-3000:]}")

    def child_pid(self) -> int:
        """The command the shell runs (its only child)."""
        [pid] = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent_pid(int(p)) == self.pid]
        return pid


def _parent_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            return int(stat_file.read().rsplit(b")", 1)[1].split()[1])
    except OSError:
        return None


def _bare_shell(home: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")  # PYTHONPATH: a worktree runs its own code
    return {name: os.environ[name] for name in keep if name in os.environ} | {"HOME": str(home)}


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


@pytest.mark.slow
def test_dev_stack_banner_commands_work_when_pasted_and_ctrl_c_exits_cleanly(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    ui_port, s3_port = free_port(), free_port()
    # Leftovers of another setup in the user's shell: the stack must not use them.
    leftovers = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "EXTRACTION_S3_BUCKET": "prod-uploads"}
    env = _bare_shell(tmp_path) | leftovers
    command = f'{BIN / "extraction-pipeline"} dev --port {ui_port} --s3-port {s3_port}; echo "dev exited $?"'
    terminal = Terminal(command, env, project)
    try:
        terminal.read_until(r"Ctrl-C stops everything started here", 240)
        banner = terminal.output
        assert f"note: AWS_ENDPOINT_URL={leftovers['AWS_ENDPOINT_URL']} from your shell is replaced by " in banner
        assert "note: EXTRACTION_S3_BUCKET=prod-uploads from your shell is replaced by extraction-uploads" in banner
        exports = [line.strip() for line in banner.splitlines() if line.strip().startswith("export ")]
        assert len(exports) == 9, banner  # PATH + the eight variables the CLI needs
        pasted = "; ".join(exports)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        script = f"{pasted}; extraction-pipeline upload {SAMPLES / 'bracket.dxf'}"
        upload = subprocess.run(["sh", "-c", script], cwd=elsewhere, env=_bare_shell(tmp_path),
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert upload.returncode == 0, upload.stderr
        assert upload.stdout.strip() == "s3://extraction-uploads/bracket.dxf"
        # Inside the project folder nothing needs pasting: the CLI reads .state/dev.env.
        # The pasted upload gets its row; a seeded sample completes (on a busy 2-core machine all take minutes).
        deadline = time.monotonic() + 180
        while True:
            listed = subprocess.run([str(BIN / "extraction-pipeline"), "jobs", "list", "--json"], cwd=project,
                                    env=_bare_shell(tmp_path), capture_output=True, text=True, timeout=60)  # fmt: skip
            assert listed.returncode == 0, listed.stderr
            rows = {row["file_url"]: row["status"] for row in json.loads(listed.stdout)}
            uploaded = "s3://extraction-uploads/bracket.dxf" in rows
            sample_done = rows.get("s3://extraction-uploads/samples/bracket.dxf") == "completed"
            if (uploaded and sample_done) or time.monotonic() > deadline:
                break
            time.sleep(3)
        assert uploaded and rows["s3://extraction-uploads/samples/bracket.dxf"] == "completed", rows
        assert _graphql(ui_port, "{ shouldShowNux }") == {"shouldShowNux": False}
        job = _graphql(ui_port, '{ assetNodeOrError(assetKey: {path: ["file_extraction"]}) { ... on AssetNode '
                                "{ jobNames } } }")  # fmt: skip
        assert "extract_files" in job["assetNodeOrError"]["jobNames"]
        # bulk-import finds the instance (DAGSTER_HOME) and the webserver from .state/dev.env, as the README says
        dry_run = subprocess.run([str(BIN / "extraction-pipeline"), "bulk-import", "s3://extraction-uploads/samples/",
                                  "--dry-run"], cwd=project, env=_bare_shell(tmp_path), capture_output=True,
                                 text=True, timeout=120)  # fmt: skip
        assert dry_run.returncode == 0, dry_run.stderr
        assert "would import" in dry_run.stdout and "unchanged" in dry_run.stdout, dry_run.stdout
    finally:
        code = terminal.ctrl_c_and_wait(90)
    assert code == 0
    assert "dev exited 0" in terminal.output
    for noise in NOISE:
        assert noise not in terminal.output, (noise, terminal.output[-3000:])
    _assert_nothing_left(project, ui_port, s3_port)


def _stack_processes(project: Path) -> list[int]:
    """`dagster dev` and everything it started: they all carry the stack's DAGSTER_HOME."""
    return living_processes(environ_entry=f"DAGSTER_HOME={project / '.state' / 'dagster_home'}")


def _assert_nothing_left(project: Path, ui_port: int, s3_port: int) -> None:
    assert not (project / ".state" / "dev.env").exists()
    assert _stack_processes(project) == []
    for port in (ui_port, s3_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing left listening


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_a_stop_during_start_up_ends_everything_the_stack_started(tmp_path: Path, stop: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    ui_port, s3_port = free_port(), free_port()
    command = f'{BIN / "extraction-pipeline"} dev --no-seed --port {ui_port} --s3-port {s3_port}; echo "dev exited $?"'
    terminal = Terminal(command, _bare_shell(tmp_path), project)
    try:
        # Certain before the stop: `dagster dev` runs and has started at least one of its services.
        wait_for("dagster dev and one of its services", lambda: len(_stack_processes(project)) >= 2, 240, 0.2)
    finally:
        if stop == "ctrl-c":
            code = terminal.ctrl_c_and_wait(60)
        else:
            os.kill(terminal.child_pid(), signal.SIGTERM)
            code = terminal.wait(60, "SIGTERM")
    assert code == 0 and "dev exited 0" in terminal.output, terminal.output[-3000:]
    _assert_nothing_left(project, ui_port, s3_port)


def _cli_in(project: Path, home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``.venv/bin/extraction-pipeline ARGS`` in the project folder of a fresh shell, as the README's first steps."""
    return subprocess.run([str(BIN / "extraction-pipeline"), *args], cwd=project, env=_bare_shell(home),
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


@pytest.mark.slow
def test_uploads_survive_a_restart_and_the_logs_stay_quiet(tmp_path: Path) -> None:
    """make dev, upload --wait, doctor; stop (the CLI then says the stack is not running); start: the object is
    still listed and readable, its row still completed. No line per S3 request or sensor tick without --verbose."""
    project = tmp_path / "project"
    project.mkdir()
    drawing = SAMPLES / "bracket.dxf"
    file_url = "s3://extraction-uploads/bracket.dxf"
    ui_port, s3_port = free_port(), free_port()
    command = f'{BIN / "extraction-pipeline"} dev --no-seed --port {ui_port} --s3-port {s3_port}; echo "dev exited $?"'

    first = Terminal(command, _bare_shell(tmp_path), project)
    try:
        first.read_until(r"Ctrl-C stops everything started here", 240)
        banner_end = len(first.output)
        # on a busy 2-core machine a first run takes minutes (process start, code loading, sandbox child)
        uploaded = _cli_in(project, tmp_path, "upload", "--wait", "--timeout", "600", str(drawing), timeout=660)
        assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr + first.output[-3000:]
        assert uploaded.stdout.splitlines()[1].startswith(f"{file_url}: completed (dxf in "), uploaded.stdout
        doctor = _cli_in(project, tmp_path, "doctor")
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert [line.split()[:2] for line in doctor.stdout.splitlines()] == [
            ["ok", "database"], ["ok", "s3"], ["ok", "dagster"]
        ]  # fmt: skip
        after_banner = first.output[banner_end:]
    finally:
        assert first.ctrl_c_and_wait(90) == 0
    assert "GET /" not in after_banner and "Checking for new runs for sensor" not in after_banner, after_banner
    assert "DEBUG" not in after_banner, after_banner  # a run's events stay in the UI
    assert f"extracted {file_url} (dxf) in " in after_banner and len(after_banner.splitlines()) < 6, after_banner

    stopped = _cli_in(project, tmp_path, "upload", str(drawing))
    assert stopped.returncode == 6, stopped.stderr
    assert stopped.stderr.startswith("error: the dev stack is not running: start it with `make dev`"), stopped.stderr

    ui_port, s3_port = free_port(), free_port()
    command = f'{BIN / "extraction-pipeline"} dev --no-seed --port {ui_port} --s3-port {s3_port}; echo "dev exited $?"'
    second = Terminal(command, _bare_shell(tmp_path), project)
    try:
        second.read_until(r"Ctrl-C stops everything started here", 240)
        assert "1 object(s) kept from the last run" in second.output
        import boto3

        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}", region_name="us-east-1",
                          aws_access_key_id="dev", aws_secret_access_key="dev")  # fmt: skip
        listed = [item["Key"] for item in s3.list_objects_v2(Bucket="extraction-uploads")["Contents"]]
        assert listed == ["bracket.dxf"]
        assert s3.get_object(Bucket="extraction-uploads", Key="bracket.dxf")["Body"].read() == drawing.read_bytes()
        shown = _cli_in(project, tmp_path, "jobs", "show", file_url, "--json")
        assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "completed", shown.stderr
    finally:
        assert second.ctrl_c_and_wait(90) == 0
    _assert_nothing_left(project, ui_port, s3_port)
