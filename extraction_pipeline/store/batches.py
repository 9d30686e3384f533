"""Writes for many files at once (bulk import, backfill and burst runs): one statement or transaction a batch.

A mixin of ``JobStore``; the per-file writes in ``store.py`` say what each of these does for one file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store.models import ExtractionJob, JobStatus, utcnow
from extraction_pipeline.store.rows import (
    IN_BATCH,
    INSERT_BATCH,
    RESET_COLUMNS,
    FileExtraction,
    NewObject,
    StoredJob,
    pending_values,
    upsert_value,
)


class BatchRows:
    """``JobStore``'s batch writes (see ``store.JobStore`` for the session and engine)."""

    engine: Engine
    _session: Callable[[], AbstractContextManager[Session]]

    def upsert_pending_batch(self, new_objects: Sequence[NewObject], max_retries: int) -> int:
        """``upsert_pending`` for many objects: one INSERT … ON CONFLICT statement, executed for all the rows at
        once (SQLAlchemy sends them as multi-row VALUES pages).

        The statement has one row's parameters, compiled once: a statement with 1,000 rows' values in it took
        SQLAlchemy ~0.7 s to compile per batch, more than the database took to write them.
        The rows count as registered (``registered_at`` set): the caller registered their partitions first.
        """
        if not new_objects:
            return 0
        now = utcnow()
        rows = [pending_values(new, max_retries, now) for new in new_objects]
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        table = ExtractionJob.__table__
        statement = dialect.insert(table)
        # RETURNING is what lets SQLAlchemy batch an ON CONFLICT … DO UPDATE into multi-row pages
        # ("insertmanyvalues"); without it every row is a round trip of its own.
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.file_url],
            set_={name: upsert_value(statement.excluded, name, self.engine.dialect.name) for name in RESET_COLUMNS},
        ).returning(table.c.id)
        with self._session() as session:
            connection = session.connection()
            for start in range(0, len(rows), INSERT_BATCH):
                connection.execute(statement, rows[start : start + INSERT_BATCH]).all()
        return len(rows)

    def claim_for_run(self, file_urls: Sequence[str], *, run_id: str, lineage: Sequence[str] = ()) -> set[str]:
        """Give the files to run ``run_id`` unless another run has them; returns the file_urls it now holds.

        One conditional UPDATE per batch, so of two runs claiming a row at once exactly one gets it: a row held
        by no run, by this run, or by a run this one re-executes (``lineage``: its parent and root) is taken.
        """
        owners = [run_id, *lineage]
        claimed: set[str] = set()
        with self._session() as session:
            for start in range(0, len(file_urls), IN_BATCH):
                outcome = session.execute(
                    update(ExtractionJob)
                    .where(
                        ExtractionJob.file_url.in_(file_urls[start : start + IN_BATCH]),
                        or_(ExtractionJob.dagster_run_id.is_(None), ExtractionJob.dagster_run_id.in_(owners)),
                    )
                    .values(dagster_run_id=run_id, updated_at=utcnow())
                    .returning(ExtractionJob.file_url)
                )
                claimed.update(outcome.scalars())
        return claimed

    def find_many(self, file_urls: Sequence[str]) -> dict[str, StoredJob]:
        """file_url → row for the rows that exist, in batched IN-queries."""
        found: dict[str, StoredJob] = {}
        with self._session() as session:
            for start in range(0, len(file_urls), IN_BATCH):
                query = select(ExtractionJob).where(ExtractionJob.file_url.in_(file_urls[start : start + IN_BATCH]))
                found.update({row.file_url: StoredJob.from_row(row) for row in session.scalars(query)})
        return found

    def mark_processing_batch(self, refs: Sequence[ObjectRef], *, run_id: str, attempt: int) -> int:
        """``mark_processing`` for the files a run is about to start, in one UPDATE; returns how many it marked.

        A row an operator cancelled is left alone (the run must not start it): the run takes back a cancelled
        row it means to extract (``reset_to_pending``) before it starts it."""
        now = utcnow()
        with self._session() as session:
            outcome = session.execute(
                update(ExtractionJob)
                .where(
                    ExtractionJob.file_url.in_([ref.file_url for ref in refs]),
                    ExtractionJob.status != JobStatus.CANCELLED,
                )
                .values(
                    status=JobStatus.PROCESSING,
                    dagster_run_id=run_id,
                    retry_count=attempt,
                    started_at=now,
                    next_retry_at=None,
                    completed_at=None,
                    updated_at=now,
                )
            )
            return outcome.rowcount

    def complete(self, extractions: Sequence[FileExtraction]) -> int:
        """Write completed extractions into their rows, in one transaction (one UPDATE each, no read first).

        The only writer of ``completed``, for a lone file and a batch alike. A row that now describes another
        object version (re-uploaded while this one was extracted) is left alone: the newer upload's run writes
        it, and so is a row an operator cancelled while it was extracted (the cancel stands). A row registered
        without a HEAD (bulk import) learns its record link from the GET; a link the row already has wins.
        Returns how many rows were written.
        """
        written = 0
        now = utcnow()
        with self._session() as session:
            for done in extractions:
                link = done.record_link
                outcome = session.execute(
                    update(ExtractionJob)
                    .where(
                        ExtractionJob.file_url == done.file_url,
                        or_(ExtractionJob.etag.is_(None), ExtractionJob.etag == done.etag),
                        ExtractionJob.status != JobStatus.CANCELLED,
                    )
                    .values(
                        status=JobStatus.COMPLETED,
                        result=done.result,
                        format=done.format,
                        extractor_version=done.extractor_version,
                        duration_ms=done.duration_ms,
                        file_size=done.file_size,
                        record_id=func.coalesce(ExtractionJob.record_id, link.record_id),
                        field_id=func.coalesce(ExtractionJob.field_id, link.field_id),
                        attachment_id=func.coalesce(ExtractionJob.attachment_id, link.attachment_id),
                        completed_at=now,
                        error_message=None,
                        error_kind=None,
                        next_retry_at=None,
                        updated_at=now,
                    )
                )
                written += outcome.rowcount
        return written

    def status_counts(self, file_urls: Sequence[str]) -> dict[str, JobStatus]:
        """file_url → status for the given rows (progress of an import), in batched IN-queries."""
        statuses: dict[str, JobStatus] = {}
        with self._session() as session:
            for start in range(0, len(file_urls), IN_BATCH):
                rows = session.execute(
                    select(ExtractionJob.file_url, ExtractionJob.status).where(
                        ExtractionJob.file_url.in_(file_urls[start : start + IN_BATCH])
                    )
                )
                statuses.update({url: status for url, status in rows})  # dict(result) would read .keys()
        return statuses
