"""The command line: same extractor and store code as the pipeline, no Dagster needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from extraction_pipeline.cli import main
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf

SAMPLES = Path(__file__).resolve().parents[1] / "extraction_pipeline" / "samples"


@pytest.fixture
def cli_env(monkeypatch, database_url: str, moto_endpoint: str, bucket: str) -> dict[str, str]:
    env = {"EXTRACTION_DATABASE_URL": database_url, "AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": bucket}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_extract_json_prints_the_result_schema(tmp_path: Path) -> None:
    path = build_drawing_dxf(tmp_path / "bracket.dxf", drawing_number="CLI-1")

    outcome = CliRunner().invoke(main, ["extract", str(path), "--json"])

    assert outcome.exit_code == 0, outcome.output
    result = json.loads(outcome.output)
    assert result["format"] == "dxf" and result["schema_version"] == "1.0"
    assert result["title_block"]["drawing_number"] == "CLI-1"
    assert result["source"]["filename"] == "bracket.dxf" and len(result["source"]["sha256"]) == 64


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.iterdir()))
def test_every_shipped_sample_extracts(sample: str) -> None:
    outcome = CliRunner().invoke(main, ["extract", str(SAMPLES / sample), "--json"])
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.output)["source"]["filename"] == sample


def test_extract_failure_prints_a_typed_error_and_exits_non_zero(tmp_path: Path) -> None:
    path = tmp_path / "drawing.pdf"
    path.write_bytes(b"0\nSECTION\n2\nHEADER\n0\nENDSEC\n0\nEOF\n")  # DXF content behind a .pdf name

    outcome = CliRunner().invoke(main, ["extract", str(path), "--json"])

    assert outcome.exit_code == 2
    error = json.loads(outcome.output)["error"]
    assert error["kind"] == "permanent" and error["type"] == "FormatMismatchError"
    assert "drawing.pdf" in error["message"] and "DXF" in error["message"].upper()


def test_extract_human_summary(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(main, ["extract", str(build_drawing_dxf(tmp_path / "b.dxf"))])
    assert outcome.exit_code == 0 and outcome.output.startswith("b.dxf: dxf (dxf/")


def test_upload_puts_files_with_their_record_link(cli_env: dict[str, str], s3, tmp_path: Path) -> None:
    path = build_drawing_dxf(tmp_path / "linked.dxf")

    outcome = CliRunner().invoke(main, ["upload", str(path), "--prefix", "in/", "--record-id", "rec1",
                                        "--attachment-id", "att1"])  # fmt: skip

    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.strip() == f"s3://{cli_env['EXTRACTION_S3_BUCKET']}/in/linked.dxf"
    head = s3.head_object(Bucket=cli_env["EXTRACTION_S3_BUCKET"], Key="in/linked.dxf")
    assert head["Metadata"] == {"record-id": "rec1", "attachment-id": "att1"}


def test_jobs_list_and_show(cli_env: dict[str, str], store: JobStore) -> None:
    from extraction_pipeline_tests.test_store import new_object

    store.upsert_pending([new_object("a.pdf"), new_object("b.dxf")], max_retries=3)
    store.mark_completed(ObjectRef("bkt", "b.dxf"), result={"units": "mm"}, file_format="dxf",
                         extractor_version="dxf/1.0.0", duration_ms=12)  # fmt: skip
    runner = CliRunner()

    listed = json.loads(runner.invoke(main, ["jobs", "list", "--status", "completed", "--json"]).output)
    assert [row["file_url"] for row in listed] == ["s3://bkt/b.dxf"] and "result" not in listed[0]
    text = runner.invoke(main, ["jobs", "list"]).output
    assert "s3://bkt/a.pdf" in text and "pending" in text
    shown = json.loads(runner.invoke(main, ["jobs", "show", listed[0]["id"], "--json"]).output)
    assert shown["result"] == {"units": "mm"} and shown["status"] == JobStatus.COMPLETED.value
    assert "s3://bkt/b.dxf" in runner.invoke(main, ["jobs", "show", "s3://bkt/b.dxf"]).output

    missing = runner.invoke(main, ["jobs", "show", "s3://bkt/nope.pdf"])
    assert missing.exit_code == 2 and "no extraction job" in missing.output


def test_db_upgrade_creates_the_table(monkeypatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'jobs.sqlite3'}"
    monkeypatch.setenv("EXTRACTION_DATABASE_URL", url)

    outcome = CliRunner().invoke(main, ["db", "upgrade"])

    assert outcome.exit_code == 0, outcome.output
    assert JobStore(url).list() == []
