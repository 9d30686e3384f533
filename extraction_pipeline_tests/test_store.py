"""The extraction_jobs table and its store, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from extraction_pipeline.defs.extraction.partitions import partition_key_for
from extraction_pipeline.errors import CorruptFileError, ErrorKind, StorageUnavailableError
from extraction_pipeline.objects import ObjectRef, ObjectVersion, RecordLink
from extraction_pipeline.store import JobFilter, JobStatus, JobStore, NewObject
from extraction_pipeline.store.models import Base
from extraction_pipeline.store.rows import JobNotFoundError
from extraction_pipeline_tests.rows import complete_row

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def new_object(key: str, etag: str = "e1", **link: str) -> NewObject:
    ref = ObjectRef("bkt", key)
    version = ObjectVersion(ref, etag, 123, T0, RecordLink(**link), {"engine": "native"})
    return NewObject(version, partition_key_for(ref), key.rsplit(".", 1)[-1])


def test_migration_creates_exactly_the_model(store: JobStore) -> None:
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    indexes = {ix["name"]: (tuple(ix["column_names"]), bool(ix["unique"])) for ix in
               inspect(store.engine).get_indexes("extraction_jobs")}  # fmt: skip
    assert indexes["ux_extraction_jobs_file_url"] == (("file_url",), True)
    assert indexes["ix_extraction_jobs_status"] == (("status",), False)
    assert indexes["ix_extraction_jobs_status_next_retry_at"] == (("status", "next_retry_at"), False)
    assert indexes["ix_extraction_jobs_record_attachment"] == (("record_id", "attachment_id"), False)
    assert indexes["ix_extraction_jobs_created_at"] == (("created_at",), False)


def test_pending_row_carries_the_object_and_its_record_link(store: JobStore) -> None:
    store.upsert_pending([new_object("a/b.pdf", record_id="r1", field_id="f1", attachment_id="a1")], max_retries=3)

    row = store.get("s3://bkt/a/b.pdf")
    assert row.status is JobStatus.PENDING and row.format == "pdf" and row.etag == "e1"
    assert (row.record_id, row.field_id, row.attachment_id) == ("r1", "f1", "a1")
    assert row.options == {"engine": "native"} and row.max_retries == 3 and row.retry_count == 0
    assert row.partition_key == "bkt/a/b.pdf" and row.filename == "b.pdf" and row.file_size == 123
    assert store.get(row.id) == row  # queryable by job id or by file_url
    assert row.created_at.tzinfo is not None


def test_reupload_resets_the_same_row_to_pending(store: JobStore) -> None:
    store.upsert_pending([new_object("x.dxf", "e1")], max_retries=3)
    ref = ObjectRef("bkt", "x.dxf")
    first = store.mark_failed(ref, message="bad", kind=ErrorKind.PERMANENT, attempts=0)

    store.upsert_pending([new_object("x.dxf", "e2")], max_retries=3)

    row = store.get("s3://bkt/x.dxf")
    assert row.id == first.id  # one row per file_url
    assert row.status is JobStatus.PENDING and row.etag == "e2"
    assert row.error_message is None and row.error_kind is None and row.completed_at is None


def test_attempt_lifecycle_processing_retrying_completed(store: JobStore) -> None:
    store.upsert_pending([new_object("p.pdf")], max_retries=3)
    ref = ObjectRef("bkt", "p.pdf")

    processing = store.mark_processing(ref, run_id="run-1", attempt=0)
    assert processing.status is JobStatus.PROCESSING and processing.dagster_run_id == "run-1" and processing.started_at
    retrying = store.mark_retrying(
        ref, error=StorageUnavailableError("S3 said 503"), retry_count=1, next_retry_at=T0 + timedelta(seconds=30)
    )
    assert retrying.status is JobStatus.RETRYING and retrying.error_kind is ErrorKind.RETRYABLE
    assert retrying.next_retry_at == T0 + timedelta(seconds=30) and retrying.error_message == "S3 said 503"
    done = complete_row(store, ref, result={"k": [1, 2]}, file_format="pdf", extractor_version="pdf/1", duration_ms=42)
    assert done.status is JobStatus.COMPLETED and done.result == {"k": [1, 2]} and done.duration_ms == 42
    assert done.error_message is None and done.next_retry_at is None and done.retry_count == 1


def test_completion_of_an_outdated_version_does_not_overwrite_a_reupload(store: JobStore) -> None:
    store.upsert_pending([new_object("v.dxf", "new-etag")], max_retries=3)
    ref = ObjectRef("bkt", "v.dxf")

    row = complete_row(store, ref, result={"old": True}, file_format="dxf", extractor_version="dxf/1",
                       duration_ms=1, etag="old-etag")  # fmt: skip

    assert row.status is JobStatus.PENDING and store.get(ref.file_url).result is None


def test_fail_if_active_only_touches_active_rows(store: JobStore) -> None:
    store.upsert_pending([new_object("a.pdf"), new_object("b.pdf")], max_retries=3)
    complete_row(store, ObjectRef("bkt", "b.pdf"), result={}, file_format="pdf", extractor_version="v", duration_ms=1)

    assert store.fail_if_active(ObjectRef("bkt", "a.pdf"), message="worker died", kind=ErrorKind.RETRYABLE)
    assert not store.fail_if_active(ObjectRef("bkt", "b.pdf"), message="worker died", kind=ErrorKind.RETRYABLE)
    assert store.get("s3://bkt/a.pdf").status is JobStatus.FAILED
    assert store.get("s3://bkt/b.pdf").status is JobStatus.COMPLETED


def test_known_etags_batches_over_many_keys(store: JobStore) -> None:
    store.upsert_pending([new_object(f"k{i}.dxf", f"e{i}") for i in range(1200)], max_retries=3)

    known = store.known_etags([f"s3://bkt/k{i}.dxf" for i in range(1300)])

    assert len(known) == 1200 and known["s3://bkt/k7.dxf"] == ("e7", JobStatus.PENDING)


def test_list_filters_and_stats(store: JobStore) -> None:
    store.upsert_pending(
        [new_object(f"{i}.{fmt}") for i, fmt in enumerate(["pdf", "pdf", "dxf", "ifc"])], max_retries=3
    )
    for key, ms in (("0.pdf", 100), ("2.dxf", 300)):
        complete_row(store, ObjectRef("bkt", key), result={}, file_format=key[-3:], extractor_version="v",
                     duration_ms=ms)  # fmt: skip
    store.mark_failed(ObjectRef("bkt", "1.pdf"), message="corrupt", kind=ErrorKind.PERMANENT)

    assert {r.file_url for r in store.list(status=JobStatus.COMPLETED)} == {"s3://bkt/0.pdf", "s3://bkt/2.dxf"}
    assert {r.file_url for r in store.list(file_format="pdf")} == {"s3://bkt/0.pdf", "s3://bkt/1.pdf"}
    assert len(store.list(limit=2)) == 2 and len(store.list(limit=2, offset=3)) == 1
    assert store.list(since=datetime.now(timezone.utc) + timedelta(hours=1)) == []
    stats = store.stats()
    assert stats.by_status == {"completed": 2, "failed": 1, "pending": 1} and stats.total == 4
    assert stats.by_format["pdf"] == {"completed": 1, "failed": 1}
    assert stats.failure_rate == pytest.approx(1 / 3)
    assert stats.p50_duration_ms == 200 and stats.p95_duration_ms == 300


def test_unknown_job_is_a_clear_error(store: JobStore) -> None:
    with pytest.raises(JobNotFoundError, match="no extraction job"):
        store.get("s3://bkt/missing.pdf")
    with pytest.raises(JobNotFoundError):
        store.mark_processing(ObjectRef("bkt", "missing.pdf"), run_id="r", attempt=0)


def test_error_kinds_classify_themselves() -> None:
    assert CorruptFileError("x").to_dict() == {"kind": "permanent", "type": "CorruptFileError", "message": "x"}
    assert StorageUnavailableError("y").retryable and not CorruptFileError("x").retryable


def test_unreachable_database_is_a_retryable_error(tmp_path) -> None:
    from extraction_pipeline.errors import DatabaseUnavailableError

    dead = JobStore("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailableError) as caught:
        dead.get("s3://bkt/a.pdf")
    assert caught.value.retryable


def test_list_and_page_filter_by_record_and_attachment(store: JobStore) -> None:
    store.upsert_pending([new_object("r1a.pdf", record_id="r1", attachment_id="a1"),
                          new_object("r1b.pdf", record_id="r1", attachment_id="a2"),
                          new_object("r2.pdf", record_id="r2")], max_retries=3)  # fmt: skip

    assert {r.file_url for r in store.list(record_id="r1")} == {"s3://bkt/r1a.pdf", "s3://bkt/r1b.pdf"}
    assert [r.file_url for r in store.list(record_id="r1", attachment_id="a2")] == ["s3://bkt/r1b.pdf"]
    page = store.page(JobFilter(record_id="r2"), limit=5)
    assert [r.file_url for r in page.jobs] == ["s3://bkt/r2.pdf"] and page.next_cursor is None
