"""``JobStore``: every read and write of ``extraction_jobs`` goes through here (sensor, asset, IO manager, CLI).

Writes are idempotent upserts keyed by ``file_url`` so a retried step, a re-run sensor tick or a re-materialization
never creates a second row for the same file. Connection-level database failures surface as
``DatabaseUnavailableError`` (retryable).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, and_, create_engine, event, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from extraction_pipeline.errors import DatabaseUnavailableError, ErrorKind, ExtractionError
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store.batches import BatchRows
from extraction_pipeline.store.inbox import InboxRows
from extraction_pipeline.store.listing import JobFilter, ListingRows
from extraction_pipeline.store.models import ACTIVE_STATUSES, ExtractionJob, JobStatus, utcnow
from extraction_pipeline.store.rows import (
    IN_BATCH,
    RESET_COLUMNS,
    JobNotFoundError,
    JobStats,
    NewObject,
    StoredJob,
    pending_values,
    upsert_value,
)

T = TypeVar("T")


def _is_connection_error(error: DBAPIError) -> bool:
    return isinstance(error, OperationalError) or bool(error.connection_invalidated)


def create_store_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets the webserver/CLI read while a run writes; busy_timeout rides out short write locks.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(database_url, pool_pre_ping=True)


class JobStore(InboxRows, BatchRows, ListingRows):
    """Every read and write of ``extraction_jobs``; inbox, batch and keyset-listing queries come from mixins."""

    def __init__(self, database_url: str, engine: Engine | None = None) -> None:
        self.database_url = database_url
        self.engine = engine or create_store_engine(database_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    # --- plumbing ------------------------------------------------------------------------------------
    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except DBAPIError as error:
            if _is_connection_error(error):
                raise DatabaseUnavailableError(f"extraction_jobs database unavailable: {error.orig}") from error
            raise

    def _upsert(self, values: dict[str, Any], update_columns: Iterable[str]) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(ExtractionJob).values(**values)
        excluded = statement.excluded
        return statement.on_conflict_do_update(
            index_elements=[ExtractionJob.file_url],
            set_={name: upsert_value(excluded, name, self.engine.dialect.name) for name in update_columns},
        )

    def _update(
        self, ref: ObjectRef, *, for_etag: str | None = None, keep_cancelled: bool = False, **values: Any
    ) -> StoredJob:
        """Set ``values`` on the row in one transaction; with ``for_etag``, only if the row still describes that
        object version; with ``keep_cancelled``, only if it is not ``cancelled`` (else it is returned unchanged)."""
        values["updated_at"] = utcnow()
        with self._session() as session:
            row = session.scalar(select(ExtractionJob).where(ExtractionJob.file_url == ref.file_url))
            if row is None:
                raise JobNotFoundError(f"no extraction job for {ref.file_url}")
            if (for_etag and row.etag and row.etag != for_etag) or (
                keep_cancelled and row.status is JobStatus.CANCELLED
            ):
                return StoredJob.from_row(row)
            for name, value in values.items():
                setattr(row, name, value)
            session.flush()
            return StoredJob.from_row(row)

    def create_schema(self) -> None:
        """Create the table directly (tests and throw-away databases); production runs ``db upgrade``."""
        ExtractionJob.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # --- detection -----------------------------------------------------------------------------------
    def known_etags(self, file_urls: Sequence[str]) -> dict[str, tuple[str | None, JobStatus]]:
        """file_url → (etag, status) for the rows that exist, in batched IN-queries."""
        known: dict[str, tuple[str | None, JobStatus]] = {}
        with self._session() as session:
            for start in range(0, len(file_urls), IN_BATCH):
                chunk = file_urls[start : start + IN_BATCH]
                rows = session.execute(
                    select(ExtractionJob.file_url, ExtractionJob.etag, ExtractionJob.status).where(
                        ExtractionJob.file_url.in_(chunk)
                    )
                )
                known.update({url: (etag, status) for url, etag, status in rows})
        return known

    def upsert_pending(self, new_objects: Sequence[NewObject], max_retries: int) -> None:
        """Write (or reset) a ``pending`` row per object: a re-upload starts that file's row afresh."""
        if not new_objects:
            return
        now = utcnow()
        with self._session() as session:
            for new in new_objects:
                # registered_at set: the pipeline registers it (not an inbox row)
                session.execute(self._upsert(pending_values(new, max_retries, now), RESET_COLUMNS))

    # --- the lifecycle of one attempt ----------------------------------------------------------------
    def mark_processing(self, ref: ObjectRef, *, run_id: str, attempt: int, etag: str | None = None) -> StoredJob:
        values: dict[str, Any] = {
            "status": JobStatus.PROCESSING,
            "dagster_run_id": run_id,
            "retry_count": attempt,
            "started_at": utcnow(),
            "next_retry_at": None,
            "completed_at": None,
        }
        if etag is not None:
            values["etag"] = etag
        return self._update(ref, **values)

    def mark_retrying(
        self, ref: ObjectRef, *, error: ExtractionError, retry_count: int, next_retry_at: datetime
    ) -> StoredJob:
        """An attempt's retryable error; a row an operator cancelled meanwhile stays cancelled (returned as is)."""
        return self._update(
            ref,
            keep_cancelled=True,
            status=JobStatus.RETRYING,
            error_message=error.message,
            error_kind=error.kind,
            retry_count=retry_count,
            next_retry_at=next_retry_at,
        )

    def mark_failed(self, ref: ObjectRef, *, message: str, kind: ErrorKind, attempts: int | None = None) -> StoredJob:
        """The file failed for good; a row an operator cancelled meanwhile stays cancelled (returned as is)."""
        values: dict[str, Any] = {
            "status": JobStatus.FAILED,
            "error_message": message,
            "error_kind": kind,
            "next_retry_at": None,
            "completed_at": utcnow(),
        }
        if attempts is not None:
            values["retry_count"] = attempts
        return self._update(ref, keep_cancelled=True, **values)

    def fail_if_active(self, ref: ObjectRef, *, message: str, kind: ErrorKind) -> bool:
        """Backstop for crashed runs: fail the row only if it is still pending/processing/retrying."""
        return self._fail_where(
            ref, ExtractionJob.status.in_([s.value for s in ACTIVE_STATUSES]), message=message, kind=kind
        )

    def _fail_where(self, ref: ObjectRef, condition: Any, *, message: str, kind: ErrorKind) -> bool:
        """One conditional UPDATE, so a row that moved on since it was read is left alone."""
        with self._session() as session:
            outcome = session.execute(
                update(ExtractionJob)
                .where(ExtractionJob.file_url == ref.file_url, condition)
                .values(
                    status=JobStatus.FAILED,
                    error_message=message,
                    error_kind=kind,
                    next_retry_at=None,
                    completed_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
            return bool(outcome.rowcount)

    def mark_cancelled(self, ref: ObjectRef) -> StoredJob:
        return self._update(ref, status=JobStatus.CANCELLED, next_retry_at=None, completed_at=utcnow())

    def cancel_if_active(self, ref: ObjectRef) -> StoredJob | None:
        """An operator's cancel: the row becomes ``cancelled`` only if it is still pending/processing/retrying,
        in one conditional UPDATE; None if it had finished meanwhile (a finished extraction is not undone)."""
        now = utcnow()
        with self._session() as session:
            outcome = session.execute(
                update(ExtractionJob)
                .where(ExtractionJob.file_url == ref.file_url,
                       ExtractionJob.status.in_([s.value for s in ACTIVE_STATUSES]))
                .values(status=JobStatus.CANCELLED, next_retry_at=None, completed_at=now, updated_at=now)
            )  # fmt: skip
            changed = bool(outcome.rowcount)
        return self.get(ref.file_url) if changed else None

    # --- reads ---------------------------------------------------------------------------------------
    def get(self, id_or_file_url: str) -> StoredJob:
        column = ExtractionJob.file_url if "://" in id_or_file_url else ExtractionJob.id
        with self._session() as session:
            row = session.scalar(select(ExtractionJob).where(column == id_or_file_url))
            if row is None:
                raise JobNotFoundError(f"no extraction job with id or file_url {id_or_file_url!r}")
            return StoredJob.from_row(row)

    def find(self, ref: ObjectRef) -> StoredJob | None:
        try:
            return self.get(ref.file_url)
        except JobNotFoundError:
            return None

    def list(
        self,
        *,
        status: JobStatus | None = None,
        file_format: str | None = None,
        since: datetime | None = None,
        record_id: str | None = None,
        attachment_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[StoredJob]:
        job_filter = JobFilter(status, file_format, record_id, attachment_id, since=since)
        query = select(ExtractionJob).order_by(ExtractionJob.created_at.desc(), ExtractionJob.id)
        query = query.where(*job_filter.clauses())
        with self._session() as session:
            rows = session.scalars(query.limit(limit).offset(offset))
            return [StoredJob.from_row(row) for row in rows]

    def stuck_processing(self, older_than: datetime) -> list[StoredJob]:
        """Rows that say ``processing`` (or ``retrying`` past their retry time) since before ``older_than``."""
        query = select(ExtractionJob).where(
            or_(
                and_(ExtractionJob.status == JobStatus.PROCESSING, ExtractionJob.started_at < older_than),
                and_(ExtractionJob.status == JobStatus.RETRYING, ExtractionJob.next_retry_at < older_than),
            )
        )
        with self._session() as session:
            return [StoredJob.from_row(row) for row in session.scalars(query)]

    def stats(self, *, since: datetime | None = None) -> JobStats:
        stats = JobStats()
        with self._session() as session:
            grouped = session.execute(
                select(ExtractionJob.status, ExtractionJob.format, func.count())
                .where(*JobFilter(since=since).clauses())
                .group_by(ExtractionJob.status, ExtractionJob.format)
            )
            for status, file_format, count in grouped:
                stats.by_status[status.value] = stats.by_status.get(status.value, 0) + count
                per_format = stats.by_format.setdefault(file_format or "unknown", {})
                per_format[status.value] = count
                stats.total += count
            durations = sorted(
                session.scalars(
                    select(ExtractionJob.duration_ms).where(
                        ExtractionJob.status == JobStatus.COMPLETED,
                        ExtractionJob.duration_ms.is_not(None),
                        *JobFilter(since=since).clauses(),
                    )
                )
            )
        finished = stats.by_status.get("completed", 0) + stats.by_status.get("failed", 0)
        stats.failure_rate = stats.by_status.get("failed", 0) / finished if finished else 0.0
        if durations:
            stats.p50_duration_ms = float(statistics.median(durations))
            stats.p95_duration_ms = float(_percentile(durations, 0.95))
        return stats

    # --- crash recovery and operator actions ---------------------------------------------------------
    def failed_retryable(
        self, message_prefixes: Sequence[str], *, since: datetime, limit: int = 200
    ) -> list[StoredJob]:
        """Rows ``failed`` as retryable since ``since`` whose error message starts with one of the prefixes."""
        query = (
            select(ExtractionJob)
            .where(
                ExtractionJob.status == JobStatus.FAILED,
                ExtractionJob.error_kind == ErrorKind.RETRYABLE,
                ExtractionJob.updated_at >= since,
                or_(*(ExtractionJob.error_message.startswith(prefix, autoescape=True) for prefix in message_prefixes)),
            )
            .order_by(ExtractionJob.updated_at)
            .limit(limit)
        )
        with self._session() as session:
            return [StoredJob.from_row(row) for row in session.scalars(query)]

    def fail_if_stuck(self, ref: ObjectRef, *, older_than: datetime, message: str, kind: ErrorKind) -> bool:
        """Fail the row only if it is still stuck by ``stuck_processing``'s rule (it may have moved on since)."""
        return self._fail_where(ref, _stuck_since(older_than), message=message, kind=kind)

    def reset_to_pending(
        self,
        job: StoredJob,
        *,
        run_id: str | None = None,
        etag: str | None = None,
        file_size: int | None = None,
    ) -> bool:
        """Operator retry: ``job`` becomes ``pending`` for the run ``run_id`` (None: not known yet).

        Compare-and-set on the status and run id read in ``job``: if the launched run (or anything else) already
        moved the row on, it is left alone and False is returned. ``etag``/``file_size`` record the object
        version the retry will extract, so the sensor does not take it for a re-upload.
        """
        values: dict[str, Any] = {**_PENDING_AGAIN, "dagster_run_id": run_id, "updated_at": utcnow()}
        if etag is not None:
            values["etag"] = etag
        if file_size is not None:
            values["file_size"] = file_size
        with self._session() as session:
            outcome = session.execute(
                update(ExtractionJob)
                .where(
                    ExtractionJob.id == job.id,
                    ExtractionJob.status == job.status,
                    ExtractionJob.dagster_run_id.is_not_distinct_from(job.dagster_run_id),
                )
                .values(**values)
            )
            return bool(outcome.rowcount)

    def reset_status_to_pending(self, job_ids: Sequence[str], *, from_status: JobStatus) -> int:
        """Bulk re-extraction: the given rows that still have ``from_status`` become ``pending``; returns how many."""
        changed = 0
        with self._session() as session:
            for start in range(0, len(job_ids), IN_BATCH):
                outcome = session.execute(
                    update(ExtractionJob)
                    .where(ExtractionJob.id.in_(job_ids[start : start + IN_BATCH]), ExtractionJob.status == from_status)
                    .values(**_PENDING_AGAIN, dagster_run_id=None, updated_at=utcnow())
                )
                changed += outcome.rowcount
        return changed

    def partition_keys_with_status(self, status: JobStatus) -> list[tuple[str, str]]:
        """(id, partition_key) of every row with ``status``, oldest first — without loading the results."""
        query = (
            select(ExtractionJob.id, ExtractionJob.partition_key)
            .where(ExtractionJob.status == status)
            .order_by(ExtractionJob.created_at, ExtractionJob.id)
        )
        with self._session() as session:
            return [(job_id, key) for job_id, key in session.execute(query)]


# What a retried row looks like until its run starts: no error, no schedule, attempts counted afresh.
_PENDING_AGAIN: dict[str, Any] = {
    "status": JobStatus.PENDING,
    "error_message": None,
    "error_kind": None,
    "retry_count": 0,
    "next_retry_at": None,
    "completed_at": None,
}


def _stuck_since(older_than: datetime) -> Any:
    # Same rule as JobStore.stuck_processing, evaluated inside the UPDATE so a row that moved on is not touched.
    return or_(
        and_(ExtractionJob.status == JobStatus.PROCESSING, ExtractionJob.started_at < older_than),
        and_(ExtractionJob.status == JobStatus.RETRYING, ExtractionJob.next_retry_at < older_than),
    )


def _percentile(sorted_values: Sequence[int], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return float(sorted_values[index])


# How a write of the table rides out a short database outage (a failover, a restarted PostgreSQL) before the
# caller sees ``DatabaseUnavailableError``: 5 attempts, 0.5 s doubling, 7.5 s of waiting in all. Only the run
# engine retries writes: re-running an extraction because a row write failed once costs far more.
DB_WRITE_ATTEMPTS = 5
DB_RETRY_DELAY_SECONDS = 0.5


def with_db_retries(
    action: Callable[[], T], *, attempts: int = DB_WRITE_ATTEMPTS, delay_seconds: float = DB_RETRY_DELAY_SECONDS
) -> T:
    """Run a store write again after a transient database error, so a flaky write does not re-run extraction."""
    for attempt in range(attempts):
        try:
            return action()
        except DatabaseUnavailableError:
            if attempt == attempts - 1:
                raise
            time.sleep(delay_seconds * (2**attempt))
    raise AssertionError("unreachable")
