"""The table as an inbox: rows an app (PyBase) inserted with only ``id``, ``file_url`` and ``status = 'pending'``.

A mixin of ``JobStore``: the detectors find such rows, complete them from S3 and confirm them once Dagster holds
their partitions; objects deleted from the bucket cancel their open rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.objects import ObjectRef, RecordLink
from extraction_pipeline.store.models import ExtractionJob, JobStatus, UtcDateTime, utcnow
from extraction_pipeline.store.rows import (
    IN_BATCH,
    NewObject,
    StoredJob,
    new_id,
)

# The app's inbox write, as docs/applications.md documents it: insert the row, or, when the file already has one
# (a detector registered the upload first, or an earlier insert), merge into it — the app's record link and
# options win, the row's status and extraction are left alone. RETURNING gives the row's id either way.
_APP_UPSERT = """INSERT INTO extraction_jobs (id, file_url, status, record_id, field_id, attachment_id, options{stamps})
VALUES (:id, :file_url, 'pending', :record_id, :field_id, :attachment_id, :options{stamp_values})
ON CONFLICT (file_url) DO UPDATE SET
  record_id = COALESCE(excluded.record_id, extraction_jobs.record_id),
  field_id = COALESCE(excluded.field_id, extraction_jobs.field_id),
  attachment_id = COALESCE(excluded.attachment_id, extraction_jobs.attachment_id),
  options = {merged_options},
  updated_at = {now}
RETURNING id"""
_MERGED_OPTIONS = {
    "postgresql": "extraction_jobs.options || excluded.options",
    "sqlite": "json_patch(extraction_jobs.options, excluded.options)",
}
APP_UPSERT_SQL = {  # as an app writes it: the database's clock stamps the row
    dialect: _APP_UPSERT.format(merged_options=merged, stamps="", stamp_values="", now="CURRENT_TIMESTAMP")
    for dialect, merged in _MERGED_OPTIONS.items()
}
# Ours stamps the row from Python through the column type, as every other write does: SQLite keeps datetimes as
# text, and CURRENT_TIMESTAMP's form (no fraction) sorts apart from the column's, which would upset keyset pages.
_STAMPED_UPSERT_SQL = {
    dialect: _APP_UPSERT.format(
        merged_options=merged, stamps=", created_at, updated_at", stamp_values=", :now, :now", now=":now"
    )
    for dialect, merged in _MERGED_OPTIONS.items()
}


class InboxRows:
    """``JobStore``'s inbox queries (see ``store.JobStore`` for the session and engine)."""

    engine: Engine
    _session: Callable[[], AbstractContextManager[Session]]

    def unregistered_pending(self, limit: int) -> list[StoredJob]:
        """Pending rows no detector has registered yet, oldest first (the partial index ix_extraction_jobs_inbox)."""
        query = (
            select(ExtractionJob)
            .where(ExtractionJob.status == JobStatus.PENDING, ExtractionJob.registered_at.is_(None))
            .order_by(ExtractionJob.created_at, ExtractionJob.id)
            .limit(limit)
        )
        with self._session() as session:
            return [StoredJob.from_row(row) for row in session.scalars(query)]

    def fill_inbox_row(self, job_id: str, new: NewObject) -> StoredJob | None:
        """Complete an app-inserted row with what the pipeline read from S3 (size, ETag, format, partition).

        The app's own record link and options win over the object's user metadata. Only a row that is still an
        unregistered ``pending`` row is touched (None otherwise); ``registered_at`` stays NULL until
        ``confirm_registered`` — after Dagster stored the partition — so a tick that dies asks again.
        """
        version = new.version
        with self._session() as session:
            row = session.scalar(
                select(ExtractionJob)
                .where(
                    ExtractionJob.id == job_id,
                    ExtractionJob.status == JobStatus.PENDING,
                    ExtractionJob.registered_at.is_(None),
                )
                .with_for_update()  # an app's upsert of this row waits, so its link and options are not lost
            )
            if row is None:
                return None
            row.filename = version.ref.filename
            row.file_size = version.size
            row.format = new.format
            row.etag = version.etag
            row.partition_key = new.partition_key
            row.options = {**version.options, **(row.options or {})}
            row.record_id = row.record_id or version.link.record_id
            row.field_id = row.field_id or version.link.field_id
            row.attachment_id = row.attachment_id or version.link.attachment_id
            row.updated_at = utcnow()
            session.flush()
            return StoredJob.from_row(row)

    def confirm_registered(self, job_ids: Sequence[str]) -> int:
        """Mark rows registered (their partitions exist in Dagster); returns how many changed."""
        changed = 0
        with self._session() as session:
            for start in range(0, len(job_ids), IN_BATCH):
                outcome = session.execute(
                    update(ExtractionJob)
                    .where(
                        ExtractionJob.id.in_(job_ids[start : start + IN_BATCH]), ExtractionJob.registered_at.is_(None)
                    )
                    .values(registered_at=utcnow())
                )
                changed += outcome.rowcount
        return changed

    def reject_inbox_row(self, job_id: str, *, message: str, kind: ErrorKind, filename: str = "") -> bool:
        """Close an app-inserted row the pipeline cannot take (bad URL, unsupported type, object never uploaded)."""
        now = utcnow()
        with self._session() as session:
            outcome = session.execute(
                update(ExtractionJob)
                .where(ExtractionJob.id == job_id, ExtractionJob.registered_at.is_(None))
                .values(status=JobStatus.FAILED, error_message=message, error_kind=kind, filename=filename,
                        completed_at=now, updated_at=now, registered_at=now)
            )  # fmt: skip
            return bool(outcome.rowcount)

    def submit(self, file_url: str, *, link: RecordLink | None = None, options: dict[str, Any] | None = None) -> str:
        """The app's inbox write (``APP_UPSERT_SQL``): a new ``pending`` row, or the app's link and options merged
        into the row a detector (or an earlier submit) wrote first. Returns the row's id."""
        return self.submit_or_merge(file_url, link=link, options=options)[0]

    def submit_or_merge(
        self, file_url: str, *, link: RecordLink | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, bool]:
        """``submit``, also saying whether the row is new (True) or an existing row took the app's values (False).

        Runs the documented statement (its timestamps bound through the column type), so the CLI, the HTTP API and an
        app's own INSERT behave the same.
        """
        link = link or RecordLink()
        values: dict[str, Any] = {
            "id": new_id(),
            "file_url": file_url,
            "record_id": link.record_id,
            "field_id": link.field_id,
            "attachment_id": link.attachment_id,
            "options": json.dumps(options or {}),
        }
        dialect = "postgresql" if self.engine.dialect.name == "postgresql" else "sqlite"
        statement = text(_STAMPED_UPSERT_SQL[dialect]).bindparams(bindparam("now", type_=UtcDateTime()))
        values["now"] = utcnow()
        with self._session() as session:
            job_id = session.execute(statement, values).scalar_one()
        return job_id, job_id == values["id"]

    def cancel_removed(self, ref: ObjectRef, *, reason: str) -> bool:
        """The object was deleted from the bucket: a row not yet completed becomes ``cancelled`` with ``reason``.

        A completed row keeps its result (it describes the version that existed). Returns True if a row changed.
        """
        now = utcnow()
        open_statuses = [JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.RETRYING, JobStatus.FAILED]
        with self._session() as session:
            outcome = session.execute(
                update(ExtractionJob)
                .where(ExtractionJob.file_url == ref.file_url, ExtractionJob.status.in_(open_statuses))
                .values(status=JobStatus.CANCELLED, error_message=reason, error_kind=None, next_retry_at=None,
                        completed_at=now, updated_at=now, registered_at=func.coalesce(ExtractionJob.registered_at, now))
            )  # fmt: skip
            return bool(outcome.rowcount)
