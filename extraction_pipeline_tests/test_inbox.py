"""The table as the inbox: rows an app inserts (id, file_url, status pending) are registered and run.

Against a real S3 HTTP API (moto server), SQLite and PostgreSQL, and a real Dagster instance.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from dagster import SkipReason
from sqlalchemy import select, text

from extraction_pipeline.cli import main
from extraction_pipeline.definitions import build_resources
from extraction_pipeline.defs.detection.inbox_sensor import extraction_inbox_sensor, submit_file
from extraction_pipeline.defs.detection.registration import TAG_REASON
from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME, partition_key_for
from extraction_pipeline.objects import ObjectRef, RecordLink
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline.store.models import ExtractionJob
from extraction_pipeline_tests.ticks import SensorDriver

SAMPLES = Path(__file__).resolve().parents[1] / "extraction_pipeline" / "samples"


def app_inserts(store: JobStore, file_url: str, **columns: str) -> str:
    """What PyBase does: a plain INSERT with only the columns the contract asks of it."""
    job_id = str(uuid.uuid4())
    values = {"id": job_id, "file_url": file_url, "status": "pending", **columns}
    names = ", ".join(values)
    with store.engine.begin() as connection:
        connection.execute(text(f"INSERT INTO extraction_jobs ({names}) VALUES (:{', :'.join(values)})"), values)
    return job_id


def registered_at(store: JobStore, job_id: str):
    with store.engine.connect() as connection:
        return connection.execute(
            text("SELECT registered_at FROM extraction_jobs WHERE id = :i"), {"i": job_id}
        ).scalar()


@pytest.fixture
def inbox(pipeline) -> SensorDriver:
    return SensorDriver(extraction_inbox_sensor, pipeline.instance, pipeline.resources)


def test_app_row_is_filled_in_registered_run_and_completed(pipeline, inbox, s3, bucket, store) -> None:
    body = (SAMPLES / "bracket.dxf").read_bytes()
    s3.put_object(Bucket=bucket, Key="att/bracket.dxf", Body=body, Metadata={"record-id": "from-s3", "field-id": "f9"})
    etag = s3.head_object(Bucket=bucket, Key="att/bracket.dxf")["ETag"].strip('"')
    file_url = f"s3://{bucket}/att/bracket.dxf"
    job_id = app_inserts(store, file_url, record_id="rec-1", options='{"units": "mm"}')

    first = inbox.tick()

    key = partition_key_for(ObjectRef(bucket, "att/bracket.dxf"))
    assert first.added_partitions == [key]
    assert [(r.partition_key, r.run_key, r.tags[TAG_REASON]) for r in first.run_requests] == [
        (key, f"{key}@{etag}", "inbox")
    ]
    row = store.get(job_id)
    assert (row.file_url, row.filename, row.file_size, row.etag, row.format, row.partition_key) == (
        file_url, "bracket.dxf", len(body), etag, "dxf", key,
    )  # fmt: skip
    # the app's own link and options win; what it left out comes from the object's metadata
    assert (row.record_id, row.field_id, row.options, row.status) == ("rec-1", "f9", {"units": "mm"}, JobStatus.PENDING)
    assert registered_at(store, job_id) is None  # confirmed only once Dagster has the partition

    second = inbox.tick()
    assert isinstance(second.result, SkipReason) and second.run_requests == []
    assert registered_at(store, job_id) is not None

    outcome = pipeline.run(key, dict(first.run_requests[0].tags))
    assert outcome.success
    done = store.get(job_id)
    assert done.status is JobStatus.COMPLETED and done.result["format"] == "dxf" and done.id == job_id


def test_a_tick_whose_result_was_lost_asks_again_with_the_same_run_key(pipeline, inbox, s3, bucket, store) -> None:
    s3.put_object(Bucket=bucket, Key="a.pdf", Body=b"%PDF-1.4 x")
    job_id = app_inserts(store, f"s3://{bucket}/a.pdf")

    lost = inbox.tick(apply=False)  # the daemon died before storing partitions, runs and cursor
    again = inbox.tick()

    assert [r.run_key for r in again.run_requests] == [r.run_key for r in lost.run_requests]
    assert len(again.run_requests) == 1 and again.added_partitions == lost.added_partitions
    assert pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME) == lost.added_partitions
    assert inbox.tick().run_requests == []
    assert registered_at(store, job_id) is not None
    assert [row.id for row in store.list(limit=10)] == [job_id]


def test_object_not_uploaded_yet_is_waited_for_then_failed_with_a_reason(
    monkeypatch, pipeline, inbox, bucket, store
) -> None:
    job_id = app_inserts(store, f"s3://{bucket}/later.ifc")

    waiting = inbox.tick()
    assert isinstance(waiting.result, SkipReason) and "1 waiting" in waiting.result.skip_message
    assert store.get(job_id).status is JobStatus.PENDING

    monkeypatch.setenv("EXTRACTION_STUCK_AFTER_SECONDS", "0")
    inbox.resources = build_resources()
    inbox.tick()
    row = store.get(job_id)
    assert row.status is JobStatus.FAILED and row.error_kind.value == "permanent"
    assert row.error_message == f"s3://{bucket}/later.ifc never appeared in the bucket (waited 0 s)"
    assert row.filename == "later.ifc"


@pytest.mark.parametrize(
    ("file_url", "message"),
    [
        (
            "https://example.com/a.pdf",
            "'https://example.com/a.pdf' does not name an S3 object (expected s3://bucket/key)",
        ),
        (
            "s3://bkt/notes.txt",
            "notes.txt: not a supported file type "
            "(supported extensions: .pdf, .dxf, .ifc, .step, .stp, .png, .jpg, .jpeg, .tif, .tiff)",
        ),
    ],
)
def test_unusable_rows_fail_permanently_with_the_reason(pipeline, inbox, store, file_url, message) -> None:
    job_id = app_inserts(store, file_url)
    inbox.tick()
    row = store.get(job_id)
    assert (row.status, row.error_kind.value, row.error_message) == (JobStatus.FAILED, "permanent", message)
    assert inbox.tick().run_requests == []


def test_listing_and_inbox_never_both_launch_a_file(pipeline, inbox, s3, bucket, store) -> None:
    s3.put_object(Bucket=bucket, Key="seen-by-listing.dxf", Body=b"0\nEOF\n")
    job_id = app_inserts(store, f"s3://{bucket}/seen-by-listing.dxf", record_id="rec-7")

    listed = pipeline.tick()  # the listing sees the object first: it registers the app's row
    assert len(listed.run_requests) == 1
    assert inbox.tick().run_requests == []
    row = store.get(job_id)
    assert row.record_id == "rec-7" and registered_at(store, job_id) is not None  # the app's link survives

    s3.put_object(Bucket=bucket, Key="seen-by-inbox.dxf", Body=b"0\nEOF\n")
    app_inserts(store, f"s3://{bucket}/seen-by-inbox.dxf")
    assert len(inbox.tick().run_requests) == 1  # now the inbox first
    assert pipeline.tick().run_requests == []  # same ETag, partition registered: the listing leaves it


def test_submit_command_puts_a_file_in_the_inbox(monkeypatch, pipeline, inbox, s3, bucket, store) -> None:
    s3.put_object(Bucket=bucket, Key="cli/flange.pdf", Body=(SAMPLES / "flange.pdf").read_bytes())
    file_url = f"s3://{bucket}/cli/flange.pdf"

    outcome = CliRunner().invoke(main, ["submit", file_url, "--record-id", "rec-9", "--option", "ocr=off", "--json"])

    assert outcome.exit_code == 0, outcome.output
    job_id = json.loads(outcome.output)["id"]
    row = store.get(job_id)
    assert (row.file_url, row.status, row.record_id, row.options) == (
        file_url,
        JobStatus.PENDING,
        "rec-9",
        {"ocr": "off"},
    )
    assert [r.partition_key for r in inbox.tick().run_requests] == [
        partition_key_for(ObjectRef(bucket, "cli/flange.pdf"))
    ]

    again = CliRunner().invoke(main, ["submit", file_url, "--option", "ocr=always"])
    assert again.exit_code == 0 and "already had a job" in again.output and job_id in again.output
    assert store.get(job_id).options == {"ocr": "always"}  # the app's latest word wins, nothing dropped
    bad = CliRunner().invoke(main, ["submit", "s3://bkt/readme.md"])
    assert bad.exit_code == 2 and "not a supported file type" in bad.output


@pytest.mark.parametrize("key", ["scan.png", "photo.JPG", "plan.tiff"])
def test_submit_accepts_raster_drawings(store, key: str) -> None:
    job_id = submit_file(store, f"s3://bkt/{key}")
    assert store.get(job_id).status is JobStatus.PENDING


def test_submit_of_a_file_that_has_a_job_merges_into_it(store) -> None:
    first = submit_file(store, "s3://bkt/x.step", link=RecordLink(record_id="r1"), options={"a": "1", "b": "1"})
    again = submit_file(store, "s3://bkt/x.step", link=RecordLink(field_id="f2"), options={"b": "2"})
    row = store.get(first)
    assert again == first and (row.record_id, row.field_id, row.options) == ("r1", "f2", {"a": "1", "b": "2"})


def test_inbox_query_uses_the_partial_index(tmp_path) -> None:
    """With a table of mostly registered rows (as in production), the inbox query reads only the partial index."""
    url = f"sqlite:///{tmp_path / 'plan.sqlite3'}"
    upgrade_database(url)
    store = JobStore(url)
    with store.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO extraction_jobs (id, file_url, status, registered_at) VALUES (:i, :u, :s, :r)"),
            [{"i": str(uuid.uuid4()), "u": f"s3://b/{n}.pdf", "s": "completed" if n % 10 else "pending",
              "r": "2026-11-01 00:00:00"} for n in range(3000)],
        )  # fmt: skip
        connection.execute(text("ANALYZE"))
    app_inserts(store, "s3://b/new.pdf")
    query = (
        select(ExtractionJob.id)
        .where(ExtractionJob.status == JobStatus.PENDING, ExtractionJob.registered_at.is_(None))
        .order_by(ExtractionJob.created_at)
    )
    compiled = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as connection:
        plan = " ".join(str(row) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert [row.file_url for row in store.unregistered_pending(limit=10)] == ["s3://b/new.pdf"]
    store.dispose()
    assert "ix_extraction_jobs_inbox" in plan, plan
