"""The command line through its installed entry point, in a subprocess, in a clean environment: as a user runs it.

Every failure is one line on stderr (cause, setting, fix) with its own exit code; ``--debug`` adds the
traceback. Settings are given the way the docs give them (variable names, plain URLs).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from extraction_pipeline.cli.environment import write_env_file
from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStore
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.rows import complete_row
from extraction_pipeline_tests.test_store import new_object

EXE = Path(sys.executable).parent / "extraction-pipeline"
SAMPLES = Path(__file__).resolve().parents[1] / "extraction_pipeline" / "samples"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Outcome:
    """``extraction-pipeline ARGS`` in ``cwd`` with only ``env`` beyond a bare shell (no EXTRACTION_*/AWS_*)."""
    shell = {name: value for name, value in os.environ.items() if not name.startswith(("EXTRACTION_", "AWS_"))}
    # No ~/.aws of the machine running the tests, and no wait on an EC2 metadata endpoint.
    shell |= {"HOME": str(cwd), "AWS_EC2_METADATA_DISABLED": "true"}
    done = subprocess.run(
        [str(EXE), *args], cwd=cwd, env=shell | (env or {}), capture_output=True, text=True, timeout=120
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_explained(outcome: Outcome, code: int, *fragments: str) -> None:
    """A failure as a user should see it: its exit code, one line on stderr, no traceback, the given words."""
    assert outcome.code == code, (outcome.code, outcome.err)
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome.err
    assert "Traceback" not in outcome.err
    for fragment in fragments:
        assert fragment in outcome.err, (fragment, outcome.err)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- extract --------------------------------------------------------------------------------------------------
def test_extract_json_prints_the_result_schema(tmp_path: Path) -> None:
    path = build_drawing_dxf(tmp_path / "bracket.dxf", drawing_number="CLI-1")

    outcome = run_cli("extract", str(path), "--json", cwd=tmp_path)

    assert outcome.code == 0, outcome.err
    result = json.loads(outcome.out)
    assert result["format"] == "dxf" and result["schema_version"] == "1.0"
    assert result["title_block"]["drawing_number"] == "CLI-1"
    assert result["source"]["filename"] == "bracket.dxf" and len(result["source"]["sha256"]) == 64


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.iterdir()))
def test_every_shipped_sample_extracts(sample: str, tmp_path: Path) -> None:
    outcome = run_cli("extract", str(SAMPLES / sample), "--json", cwd=tmp_path)
    assert outcome.code == 0, outcome.err
    assert json.loads(outcome.out)["source"]["filename"] == sample


def test_extract_failure_is_a_typed_error_in_json_and_one_line_without(tmp_path: Path) -> None:
    path = tmp_path / "drawing.pdf"
    path.write_bytes(b"0\nSECTION\n2\nHEADER\n0\nENDSEC\n0\nEOF\n")  # DXF content behind a .pdf name

    as_json = run_cli("extract", str(path), "--json", cwd=tmp_path)
    human = run_cli("extract", str(path), cwd=tmp_path)

    assert as_json.code == 2
    error = json.loads(as_json.out)["error"]
    assert error["kind"] == "permanent" and error["type"] == "FormatMismatchError"
    assert "drawing.pdf" in error["message"] and "DXF" in error["message"].upper()
    assert_explained(human, 2, "drawing.pdf", "(permanent, FormatMismatchError)")


def test_extract_prints_a_human_summary_not_a_dict(tmp_path: Path) -> None:
    path = build_drawing_dxf(tmp_path / "b.dxf", drawing_number="SUM-7")

    outcome = run_cli("extract", str(path), cwd=tmp_path)

    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    size = path.stat().st_size
    assert lines[0].startswith(f"b.dxf: DXF, {size:,} bytes, extractor dxf/")
    assert lines[1].startswith("  title block: ") and "drawing_number=SUM-7" in lines[1]
    assert lines[2].startswith("  found: ") and "layers" in lines[2]
    assert "{" not in outcome.out


# --- upload ---------------------------------------------------------------------------------------------------
def test_upload_defaults_to_the_documented_bucket(tmp_path: Path, moto_endpoint: str, s3) -> None:
    """EXTRACTION_S3_BUCKET defaults to extraction-uploads: no --bucket needed (README, code location, CLI)."""
    s3.create_bucket(Bucket="extraction-uploads")
    path = build_drawing_dxf(tmp_path / "default.dxf")

    outcome = run_cli("upload", str(path), cwd=tmp_path, env=CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint})

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == "s3://extraction-uploads/default.dxf"
    assert s3.head_object(Bucket="extraction-uploads", Key="default.dxf")["ContentLength"] == path.stat().st_size


def test_upload_puts_files_with_their_record_link(tmp_path: Path, moto_endpoint: str, bucket: str, s3) -> None:
    path = build_drawing_dxf(tmp_path / "linked.dxf")
    env = CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": bucket}

    outcome = run_cli("upload", str(path), "--prefix", "in/", "--record-id", "rec1", "--attachment-id", "att1",
                      cwd=tmp_path, env=env)  # fmt: skip

    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == f"s3://{bucket}/in/linked.dxf"
    assert s3.head_object(Bucket=bucket, Key="in/linked.dxf")["Metadata"] == {
        "record-id": "rec1",
        "attachment-id": "att1",
    }


def test_upload_errors_name_the_cause_the_setting_and_the_fix(tmp_path: Path, moto_endpoint: str) -> None:
    path = build_drawing_dxf(tmp_path / "x.dxf")
    down = f"http://127.0.0.1:{closed_port()}"

    unreachable = run_cli("upload", str(path), cwd=tmp_path, env=CREDENTIALS | {"AWS_ENDPOINT_URL": down})
    to_missing = CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": "no-such-bucket"}
    missing = run_cli("upload", str(path), cwd=tmp_path, env=to_missing)
    no_credentials = run_cli("upload", str(path), cwd=tmp_path, env={"AWS_ENDPOINT_URL": moto_endpoint})

    assert_explained(unreachable, 6, "cannot reach the S3 endpoint", f"AWS_ENDPOINT_URL={down} (from the environment)",
                     "fix: ")  # fmt: skip
    assert_explained(missing, 7, "bucket 'no-such-bucket' does not exist", "EXTRACTION_S3_BUCKET=no-such-bucket",
                     "fix: create the bucket")  # fmt: skip
    assert "deleted after it was detected" not in missing.err
    assert_explained(no_credentials, 8, "no S3 credentials", "AWS_ACCESS_KEY_ID", "fix: ")


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    path = build_drawing_dxf(tmp_path / "x.dxf")

    outcome = run_cli("--debug", "upload", str(path), cwd=tmp_path, env=CREDENTIALS | {"AWS_ENDPOINT_URL": down})

    assert outcome.code == 6
    assert "Traceback (most recent call last)" in outcome.err and "EndpointConnectionError" in outcome.err
    assert outcome.err.strip().splitlines()[-1].startswith("error: cannot reach the S3 endpoint")


# --- the jobs table ---------------------------------------------------------------------------------------------
def test_jobs_outside_the_project_folder_say_which_database_and_how_to_fix(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    for command in (["jobs", "list"], ["jobs", "stats"]):
        outcome = run_cli(*command, cwd=elsewhere)
        where = f"no extraction_jobs database at {elsewhere}/.state/extraction_jobs.sqlite3"
        fix = "fix: run the command in the project folder"
        assert_explained(outcome, 4, where, "EXTRACTION_DATABASE_URL", "EXTRACTION_STATE_DIR", fix)
    assert not (elsewhere / ".state").exists()  # a read does not create an empty database


def test_database_errors_are_told_apart(tmp_path: Path, postgres_server_url: str) -> None:
    down = f"postgresql://postgres@127.0.0.1:{closed_port()}/jobs"
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")

    malformed = run_cli("jobs", "list", cwd=tmp_path, env={"EXTRACTION_DATABASE_URL": "postgres//nohost"})
    unreachable = run_cli("jobs", "list", cwd=tmp_path, env={"EXTRACTION_DATABASE_URL": down})
    sqlite_unmigrated = run_cli("jobs", "list", cwd=tmp_path, env={"EXTRACTION_DATABASE_URL": f"sqlite:///{empty}"})
    postgres_unmigrated = run_cli("jobs", "stats", cwd=tmp_path, env={"EXTRACTION_DATABASE_URL": postgres_server_url})

    assert_explained(malformed, 3, "EXTRACTION_DATABASE_URL is not a valid database URL", "postgres//nohost",
                     "fix: use a SQLAlchemy URL")  # fmt: skip
    assert_explained(unreachable, 4, "cannot reach the extraction_jobs database", f"EXTRACTION_DATABASE_URL={down}")
    for outcome in (sqlite_unmigrated, postgres_unmigrated):
        assert_explained(outcome, 5, "no extraction_jobs table yet", "run `extraction-pipeline db upgrade`")


def test_passwords_in_database_urls_are_not_printed(tmp_path: Path) -> None:
    url = f"postgresql://app:s3cret@127.0.0.1:{closed_port()}/jobs"
    outcome = run_cli("jobs", "list", cwd=tmp_path, env={"EXTRACTION_DATABASE_URL": url})
    assert_explained(outcome, 4, "postgresql://app:***@127.0.0.1")
    assert "s3cret" not in outcome.err


@pytest.fixture
def seeded(store: JobStore) -> JobStore:
    store.upsert_pending([new_object("a.pdf"), new_object("b.dxf"), new_object("c.step")], max_retries=3)
    complete_row(store, ObjectRef("bkt", "b.dxf"), result={"units": "mm"}, file_format="dxf",
                 extractor_version="dxf/1.0.0", duration_ms=12)  # fmt: skip
    long_error = "c.step is not a valid STEP file: " + "x" * 200 + "\nsecond line of the error"
    store.mark_failed(ObjectRef("bkt", "c.step"), message=long_error, kind=ErrorKind.PERMANENT)
    return store


def test_jobs_list_is_a_table_with_header_times_and_error_excerpt(
    tmp_path: Path, database_url: str, seeded: JobStore
) -> None:
    env = {"EXTRACTION_DATABASE_URL": database_url}

    table = run_cli("jobs", "list", cwd=tmp_path, env=env)
    limited = run_cli("jobs", "list", "--limit", "1", cwd=tmp_path, env=env)
    as_json = run_cli("jobs", "list", "--status", "completed", "--json", cwd=tmp_path, env=env)

    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == ["ID", "FILE", "FORMAT", "STATUS", "RETRIES", "UPDATED", "(UTC)", "ERROR"]
    rows = {line.split()[1]: line for line in lines[1:]}
    assert set(rows) == {"a.pdf", "b.dxf", "c.step"}
    failed = seeded.get("s3://bkt/c.step")
    assert rows["c.step"].split()[:5] == [failed.id, "c.step", "step", "failed", f"0/{failed.max_retries}"]
    assert failed.updated_at.strftime("%Y-%m-%d %H:%M:%S") in rows["c.step"]
    assert rows["c.step"].rstrip().endswith("…") and "c.step is not a valid STEP file: xxx" in rows["c.step"]
    assert rows["b.dxf"].rstrip().endswith("  -")  # no error
    assert len(limited.out.splitlines()) == 2
    listed = json.loads(as_json.out)
    assert [row["file_url"] for row in listed] == ["s3://bkt/b.dxf"] and "result" not in listed[0]


def test_jobs_show_prints_the_whole_error_and_unknown_jobs_exit_2(
    tmp_path: Path, database_url: str, seeded: JobStore
) -> None:
    env = {"EXTRACTION_DATABASE_URL": database_url}
    failed = seeded.get("s3://bkt/c.step")

    shown = run_cli("jobs", "show", failed.id, cwd=tmp_path, env=env)
    as_json = run_cli("jobs", "show", "s3://bkt/b.dxf", "--json", cwd=tmp_path, env=env)
    missing = run_cli("jobs", "show", "s3://bkt/nope.pdf", cwd=tmp_path, env=env)

    assert shown.code == 0 and failed.error_message in shown.out
    assert json.loads(as_json.out)["result"] == {"units": "mm"}
    assert_explained(missing, 2, "no extraction job with id or file_url 's3://bkt/nope.pdf'", "jobs list")


def test_db_upgrade_creates_the_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'jobs.sqlite3'}"

    outcome = run_cli("db", "upgrade", cwd=tmp_path, env={"EXTRACTION_DATABASE_URL": url})

    assert outcome.code == 0, outcome.err
    assert JobStore(url).list() == []
    assert run_cli("jobs", "list", cwd=tmp_path, env={"EXTRACTION_DATABASE_URL": url}).out.strip() == "no jobs yet"


# --- the dev stack's env file -------------------------------------------------------------------------------------
def test_inside_the_project_the_cli_reads_the_running_dev_stacks_env_file(
    tmp_path: Path, moto_endpoint: str, bucket: str, s3
) -> None:
    state = tmp_path / ".state"
    state.mkdir()
    database = f"sqlite:///{state / 'extraction_jobs.sqlite3'}"
    write_env_file(state / "dev.env", CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": bucket,
                   "EXTRACTION_DATABASE_URL": database}, comment="test")  # fmt: skip
    path = build_drawing_dxf(tmp_path / "pasted.dxf")

    uploaded = run_cli("upload", str(path), cwd=tmp_path)  # a fresh shell: nothing exported
    shell_wins = run_cli("upload", str(path), cwd=tmp_path, env={"EXTRACTION_S3_BUCKET": "shell-bucket"})

    assert uploaded.code == 0, uploaded.err
    assert uploaded.out.strip() == f"s3://{bucket}/pasted.dxf"
    assert_explained(shell_wins, 7, "bucket 'shell-bucket'", "EXTRACTION_S3_BUCKET=shell-bucket (from the environment)",
                     f"AWS_ENDPOINT_URL={moto_endpoint} (from {state / 'dev.env'})")  # fmt: skip


# --- speed --------------------------------------------------------------------------------------------------------
def test_jobs_upload_and_db_import_neither_dagster_nor_the_extractors(tmp_path: Path, database_url: str) -> None:
    env = {"EXTRACTION_DATABASE_URL": database_url, "PYTHONPROFILEIMPORTTIME": "1"}
    for command in (["jobs", "list"], ["jobs", "stats"], ["db", "upgrade"], ["upload", "--help"]):
        outcome = run_cli(*command, cwd=tmp_path, env=env)
        assert outcome.code == 0, outcome.err
        imported = {line.split("|")[-1].strip() for line in outcome.err.splitlines() if line.startswith("import time:")}
        heavy = sorted(m for m in imported if m.split(".")[0] in {"dagster", "dagster_aws", "dagster_webserver"}
                       or m.startswith("extraction_pipeline.extractors"))  # fmt: skip
        assert len(imported) > 100 and heavy == [], (command, heavy[:5])


def test_dev_without_the_dev_extra_says_how_to_install_it(tmp_path: Path) -> None:
    """A production install has no moto: `extraction-pipeline dev` names the extra instead of a traceback."""
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['moto'] = None  # as if not installed\n")
    outcome = run_cli(
        "dev",
        "--no-seed",
        cwd=tmp_path,
        env={"PYTHONPATH": os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])},
    )
    assert_explained(outcome, 2, "moto", "extraction_pipeline[dev]")
