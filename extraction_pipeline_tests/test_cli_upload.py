"""``extraction-pipeline upload`` as a user runs it: refusals, the next command, ``--wait`` and its exit codes.

The installed entry point in a subprocess, a real S3 API (moto server) and a real SQLite table. For ``--wait``,
a thread of the test plays the pipeline's part the way the sensor and a run do: it sees the uploaded version in
the bucket, writes its pending row, then the final state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from extraction_pipeline.cli.environment import write_env_file
from extraction_pipeline.defs.extraction.partitions import partition_key_for
from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.s3 import head_object
from extraction_pipeline.store import JobStore, NewObject
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.rows import complete_row
from extraction_pipeline_tests.test_cli import CREDENTIALS, assert_explained, closed_port, run_cli

SUPPORTED = ".pdf .dxf .ifc .step .stp .png .jpg .jpeg .tif .tiff"


def test_an_unsupported_type_is_refused_in_one_line_naming_the_supported_ones(
    tmp_path: Path, moto_endpoint: str, bucket: str, s3
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a drawing")
    env = CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": bucket}

    refused = run_cli("upload", str(notes), cwd=tmp_path, env=env)
    forced = run_cli("upload", "--force", str(notes), cwd=tmp_path, env=env)

    assert_explained(refused, 2, f"notes.txt: not a supported file type (supported: {SUPPORTED})", "--force")
    assert len(refused.err.strip().splitlines()) == 1 and refused.out == ""
    assert forced.code == 0, forced.err
    assert forced.out.strip() == f"s3://{bucket}/notes.txt"
    assert (
        forced.err.strip()
        == f"note: s3://{bucket}/notes.txt is not extracted (unsupported type, uploaded with --force)"
    )
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["notes.txt"]  # refused: not sent


def test_upload_names_the_next_command(tmp_path: Path, moto_endpoint: str, bucket: str) -> None:
    path = build_drawing_dxf(tmp_path / "part.dxf")
    env = CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": bucket}

    outcome = run_cli("upload", str(path), cwd=tmp_path, env=env)

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == f"s3://{bucket}/part.dxf"  # stdout: the URL only, for scripts
    assert outcome.err.strip().startswith(f"next: extraction-pipeline jobs show s3://{bucket}/part.dxf ")


def test_a_wrong_bucket_option_is_named_as_given(tmp_path: Path, moto_endpoint: str) -> None:
    path = build_drawing_dxf(tmp_path / "x.dxf")
    env = CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint}

    outcome = run_cli("upload", "--bucket", "wrong", str(path), cwd=tmp_path, env=env)

    assert_explained(outcome, 7, "error: bucket 'wrong' does not exist", "setting: --bucket wrong;", "fix: create")
    assert "EXTRACTION_S3_BUCKET" not in outcome.err.split("fix:")[0]


# --- the dev stack is not running ----------------------------------------------------------------------------------
def _dev_folder(tmp_path: Path) -> Path:
    """A project folder whose dev stack ran once (its marker and table stay after it stops)."""
    state = tmp_path / ".state"
    state.mkdir()
    (state / "dev.stack").write_text("a dev stack keeps its state here\n")
    return state


def test_after_the_dev_stack_stopped_upload_says_so(tmp_path: Path) -> None:
    _dev_folder(tmp_path)
    path = build_drawing_dxf(tmp_path / "x.dxf")

    outcome = run_cli("upload", str(path), cwd=tmp_path)

    assert_explained(outcome, 6, "error: the dev stack is not running: start it with `make dev`", "fix: run `make dev`")
    assert "credentials" not in outcome.err


def test_a_dev_env_left_by_a_killed_stack_is_told_as_the_stack_not_running(tmp_path: Path) -> None:
    state = _dev_folder(tmp_path)
    gone = f"http://127.0.0.1:{closed_port()}"
    write_env_file(state / "dev.env", CREDENTIALS | {"AWS_ENDPOINT_URL": gone}, comment="left behind")
    path = build_drawing_dxf(tmp_path / "x.dxf")

    outcome = run_cli("upload", str(path), cwd=tmp_path)

    assert_explained(outcome, 6, "the dev stack is not running: start it with `make dev`", f"AWS_ENDPOINT_URL={gone}")


def test_outside_a_dev_folder_missing_credentials_stay_the_cause(tmp_path: Path, moto_endpoint: str) -> None:
    path = build_drawing_dxf(tmp_path / "x.dxf")
    outcome = run_cli("upload", str(path), cwd=tmp_path)
    assert_explained(outcome, 8, "no S3 credentials")


# --- --wait --------------------------------------------------------------------------------------------------------
def _pipeline_stand_in(
    s3, store: JobStore, ref: ObjectRef, finish: Callable[[JobStore, ObjectRef], None]
) -> threading.Thread:
    def run() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                version = head_object(s3, ref)
                break
            except Exception:  # not uploaded yet
                time.sleep(0.1)
        store.upsert_pending([NewObject(version, partition_key_for(ref), "dxf")], max_retries=3)
        time.sleep(0.5)  # the CLI sees the row pending first
        finish(store, ref)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _complete(store: JobStore, ref: ObjectRef) -> None:
    complete_row(store, ref, result={"units": "mm"}, file_format="dxf", extractor_version="dxf/1", duration_ms=1200)


def _fail_permanent(store: JobStore, ref: ObjectRef) -> None:
    store.mark_failed(ref, message="x.dxf is not a valid DXF file\nsecond line", kind=ErrorKind.PERMANENT)


def _fail_retryable(store: JobStore, ref: ObjectRef) -> None:
    store.mark_failed(ref, message="S3 kept throttling", kind=ErrorKind.RETRYABLE)


def _cancel(store: JobStore, ref: ObjectRef) -> None:
    store.mark_cancelled(ref)


@pytest.mark.parametrize(
    ("finish", "code", "line"),
    [
        (_complete, 0, "completed (dxf in 1.2 s); see `extraction-pipeline jobs show "),
        (_fail_permanent, 2, "failed (permanent): x.dxf is not a valid DXF file"),
        (_fail_retryable, 1, "failed (retryable): S3 kept throttling"),
        (_cancel, 11, "cancelled (dxf"),
    ],
)
def test_wait_exits_with_the_final_state(
    finish: Callable[[JobStore, ObjectRef], None], code: int, line: str, tmp_path: Path, moto_endpoint: str,
    bucket: str, s3,
) -> None:  # fmt: skip
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade_database(url)
    store = JobStore(url)
    path = build_drawing_dxf(tmp_path / "x.dxf")
    ref = ObjectRef(bucket, "x.dxf")
    env = CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": bucket,
                         "EXTRACTION_DATABASE_URL": url}  # fmt: skip
    stand_in = _pipeline_stand_in(s3, store, ref, finish)

    outcome = run_cli("upload", "--wait", "--timeout", "30", str(path), cwd=tmp_path, env=env)

    stand_in.join(timeout=5)
    assert outcome.code == code, outcome.err
    uploaded, outcome_line = outcome.out.splitlines()
    assert uploaded == f"s3://{bucket}/x.dxf"
    assert outcome_line.startswith(f"s3://{bucket}/x.dxf: {line}"), outcome.out
    store.dispose()


def test_wait_ignores_the_row_of_an_earlier_version(tmp_path: Path, moto_endpoint: str, bucket: str, s3) -> None:
    """A re-upload: the completed row of the old ETag is not the new version's outcome."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade_database(url)
    store = JobStore(url)
    ref = ObjectRef(bucket, "x.dxf")
    s3.put_object(Bucket=bucket, Key="x.dxf", Body=b"old version")
    store.upsert_pending([NewObject(head_object(s3, ref), partition_key_for(ref), "dxf")], max_retries=3)
    _complete(store, ref)
    path = build_drawing_dxf(tmp_path / "x.dxf")
    env = CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": bucket,
                         "EXTRACTION_DATABASE_URL": url}  # fmt: skip

    outcome = run_cli("upload", "--wait", "--timeout", "2", str(path), cwd=tmp_path, env=env)

    assert_explained(outcome, 12, f"s3://{bucket}/x.dxf: no row after 2 s", "extraction-pipeline doctor")
    store.dispose()


def test_wait_without_a_pipeline_times_out_with_code_12(tmp_path: Path, moto_endpoint: str, bucket: str) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade_database(url)
    path = build_drawing_dxf(tmp_path / "x.dxf")
    env = CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": bucket,
                         "EXTRACTION_DATABASE_URL": url}  # fmt: skip
    started = time.monotonic()

    outcome = run_cli("upload", "--wait", "--timeout", "1", str(path), cwd=tmp_path, env=env)

    assert time.monotonic() - started < 20
    assert_explained(outcome, 12, "no row after 1 s: no sensor picked the upload up", "setting: bucket " + bucket)


def test_a_usage_error_is_one_line_too(tmp_path: Path) -> None:
    outcome = run_cli("upload", "nothere.pdf", cwd=tmp_path)
    assert_explained(outcome, 2, "error: Invalid value for 'FILES...': File 'nothere.pdf' does not exist;",
                     "fix: see `extraction-pipeline upload --help`")  # fmt: skip
