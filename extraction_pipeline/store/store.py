"""``JobStore``: every read and write of ``extraction_jobs`` goes through here (sensor, asset, IO manager, CLI).

Writes are idempotent upserts keyed by ``file_url`` so a retried step, a re-run sensor tick or a re-materialization
never creates a second row for the same file. Connection-level database failures surface as
``DatabaseUnavailableError`` (retryable).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, and_, create_engine, event, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from extraction_pipeline.errors import DatabaseUnavailableError, ErrorKind, ExtractionError
from extraction_pipeline.objects import ObjectRef, ObjectVersion, RecordLink
from extraction_pipeline.store.models import ACTIVE_STATUSES, ExtractionJob, JobStatus, utcnow

T = TypeVar("T")

# SQLite caps bound parameters per statement; PostgreSQL is far above this. Batched IN-queries use it.
_IN_BATCH = 500


@dataclass(frozen=True)
class StoredJob:
    """A detached, read-only snapshot of one row (safe to pass around after the session closed)."""

    id: str
    file_url: str
    filename: str
    file_size: int | None
    format: str | None
    etag: str | None
    status: JobStatus
    options: dict[str, Any]
    result: dict[str, Any] | None
    error_message: str | None
    error_kind: ErrorKind | None
    retry_count: int
    max_retries: int
    next_retry_at: datetime | None
    record_id: str | None
    field_id: str | None
    attachment_id: str | None
    partition_key: str
    dagster_run_id: str | None
    extractor_version: str | None
    duration_ms: int | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: ExtractionJob) -> StoredJob:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif hasattr(value, "value"):
                value = value.value
            out[name] = value
        return out


@dataclass(frozen=True)
class NewObject:
    """What the detector decided to register: the object version and its partition key."""

    version: ObjectVersion
    partition_key: str
    format: str | None


@dataclass
class JobStats:
    by_status: dict[str, int] = field(default_factory=dict)
    by_format: dict[str, dict[str, int]] = field(default_factory=dict)
    failure_rate: float = 0.0
    p50_duration_ms: float | None = None
    p95_duration_ms: float | None = None
    total: int = 0


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


class JobNotFoundError(ExtractionError):
    """No row has that id or file_url."""


class JobExistsError(ExtractionError):
    """A job for that file_url exists already (submit is for new files)."""


class JobStore:
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
            set_={name: _upsert_value(excluded, name) for name in update_columns},
        )

    def _update(self, ref: ObjectRef, *, for_etag: str | None = None, **values: Any) -> StoredJob:
        """Set ``values`` on the row in one transaction; with ``for_etag``, only if the row still describes that
        object version (else the row is returned unchanged)."""
        values["updated_at"] = utcnow()
        with self._session() as session:
            row = session.scalar(select(ExtractionJob).where(ExtractionJob.file_url == ref.file_url))
            if row is None:
                raise JobNotFoundError(f"no extraction job for {ref.file_url}")
            if for_etag and row.etag and row.etag != for_etag:
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
            for start in range(0, len(file_urls), _IN_BATCH):
                chunk = file_urls[start : start + _IN_BATCH]
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
        reset_columns = [
            "filename", "file_size", "format", "etag", "status", "options", "result", "error_message",
            "error_kind", "retry_count", "max_retries", "next_retry_at", "record_id", "field_id",
            "attachment_id", "partition_key", "dagster_run_id", "extractor_version", "duration_ms",
            "updated_at", "started_at", "completed_at", "registered_at",
        ]  # fmt: skip
        with self._session() as session:
            for new in new_objects:
                version = new.version
                values = {
                    "id": _new_id(),
                    "file_url": version.ref.file_url,
                    "filename": version.ref.filename,
                    "file_size": version.size,
                    "format": new.format,
                    "etag": version.etag,
                    "status": JobStatus.PENDING.value,
                    "options": dict(version.options),
                    "result": None,
                    "error_message": None,
                    "error_kind": None,
                    "retry_count": 0,
                    "max_retries": max_retries,
                    "next_retry_at": None,
                    "record_id": version.link.record_id,
                    "field_id": version.link.field_id,
                    "attachment_id": version.link.attachment_id,
                    "partition_key": new.partition_key,
                    "dagster_run_id": None,
                    "extractor_version": None,
                    "duration_ms": None,
                    "created_at": now,
                    "updated_at": now,
                    "started_at": None,
                    "completed_at": None,
                    "registered_at": now,  # the pipeline registers it: not an inbox row
                }
                session.execute(self._upsert(values, reset_columns))

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
        return self._update(
            ref,
            status=JobStatus.RETRYING,
            error_message=error.message,
            error_kind=error.kind,
            retry_count=retry_count,
            next_retry_at=next_retry_at,
        )

    def mark_completed(
        self,
        ref: ObjectRef,
        *,
        result: dict[str, Any],
        file_format: str,
        extractor_version: str,
        duration_ms: int,
        file_size: int | None = None,
        etag: str | None = None,
    ) -> StoredJob:
        values: dict[str, Any] = {
            "status": JobStatus.COMPLETED,
            "result": result,
            "format": file_format,
            "extractor_version": extractor_version,
            "duration_ms": duration_ms,
            "completed_at": utcnow(),
            "error_message": None,
            "error_kind": None,
            "next_retry_at": None,
        }
        if file_size is not None:
            values["file_size"] = file_size
        # A newer upload may have reset the row while this version was being extracted: its own run writes it.
        return self._update(ref, for_etag=etag, **values)

    def mark_failed(self, ref: ObjectRef, *, message: str, kind: ErrorKind, attempts: int | None = None) -> StoredJob:
        values: dict[str, Any] = {
            "status": JobStatus.FAILED,
            "error_message": message,
            "error_kind": kind,
            "next_retry_at": None,
            "completed_at": utcnow(),
        }
        if attempts is not None:
            values["retry_count"] = attempts
        return self._update(ref, **values)

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
        limit: int = 50,
        offset: int = 0,
    ) -> list[StoredJob]:
        query = select(ExtractionJob).order_by(ExtractionJob.created_at.desc(), ExtractionJob.id)
        query = query.where(*_filters(status=status, file_format=file_format, since=since))
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
                .where(*_filters(since=since))
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
                        *_filters(since=since),
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
            for start in range(0, len(job_ids), _IN_BATCH):
                outcome = session.execute(
                    update(ExtractionJob)
                    .where(
                        ExtractionJob.id.in_(job_ids[start : start + _IN_BATCH]), ExtractionJob.status == from_status
                    )
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

    # --- the inbox: rows an app inserted (id, file_url, status pending) ------------------------------
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
                select(ExtractionJob).where(
                    ExtractionJob.id == job_id,
                    ExtractionJob.status == JobStatus.PENDING,
                    ExtractionJob.registered_at.is_(None),
                )
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
            for start in range(0, len(job_ids), _IN_BATCH):
                outcome = session.execute(
                    update(ExtractionJob)
                    .where(
                        ExtractionJob.id.in_(job_ids[start : start + _IN_BATCH]), ExtractionJob.registered_at.is_(None)
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
        """Insert an inbox row exactly as an app does: id, file_url, status pending, optional link and options.

        Returns the new row's id; a file_url that already has a row raises ``JobExistsError`` (use ``jobs retry``).
        """
        link = link or RecordLink()
        values: dict[str, Any] = {
            "id": _new_id(),
            "file_url": file_url,
            "status": JobStatus.PENDING.value,
            "record_id": link.record_id,
            "field_id": link.field_id,
            "attachment_id": link.attachment_id,
        }
        if options:
            values["options"] = options
        try:
            with self._session() as session:
                session.execute(insert(ExtractionJob.__table__).values(**values))
        except IntegrityError as error:
            raise JobExistsError(f"{file_url} already has a job: see `jobs show`, or `jobs retry` it") from error
        return values["id"]

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

    # --- batches (bulk import, backfill runs): one statement or one transaction per batch ------------
    def upsert_pending_batch(self, new_objects: Sequence[NewObject], max_retries: int) -> int:
        """``upsert_pending`` for many objects as one multi-row INSERT … ON CONFLICT statement.

        The rows count as registered (``registered_at`` set): the caller registered their partitions first.
        """
        if not new_objects:
            return 0
        now = utcnow()
        rows = [_pending_values(new, max_retries, now) for new in new_objects]
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        with self._session() as session:
            for start in range(0, len(rows), _INSERT_BATCH):
                statement = dialect.insert(ExtractionJob).values(rows[start : start + _INSERT_BATCH])
                excluded = statement.excluded
                statement = statement.on_conflict_do_update(
                    index_elements=[ExtractionJob.file_url],
                    set_={name: getattr(excluded, name) for name in _RESET_COLUMNS},
                )
                session.execute(statement)
        return len(rows)

    def find_many(self, file_urls: Sequence[str]) -> dict[str, StoredJob]:
        """file_url → row for the rows that exist, in batched IN-queries."""
        found: dict[str, StoredJob] = {}
        with self._session() as session:
            for start in range(0, len(file_urls), _IN_BATCH):
                query = select(ExtractionJob).where(ExtractionJob.file_url.in_(file_urls[start : start + _IN_BATCH]))
                found.update({row.file_url: StoredJob.from_row(row) for row in session.scalars(query)})
        return found

    def mark_processing_batch(self, refs: Sequence[ObjectRef], *, run_id: str, attempt: int) -> int:
        """``mark_processing`` for the files a batch run is about to start, in one UPDATE."""
        now = utcnow()
        with self._session() as session:
            outcome = session.execute(
                update(ExtractionJob)
                .where(ExtractionJob.file_url.in_([ref.file_url for ref in refs]))
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

    def complete_batch(self, completions: Sequence[Completion]) -> int:
        """``mark_completed`` for many files in one transaction (one UPDATE each, no read first).

        As there, a row that now describes another object version (re-uploaded meanwhile) is left alone;
        returns how many rows were written.
        """
        written = 0
        now = utcnow()
        with self._session() as session:
            for done in completions:
                outcome = session.execute(
                    update(ExtractionJob)
                    .where(
                        ExtractionJob.file_url == done.file_url,
                        or_(ExtractionJob.etag.is_(None), ExtractionJob.etag == done.etag),
                    )
                    .values(
                        status=JobStatus.COMPLETED,
                        result=done.result,
                        format=done.format,
                        extractor_version=done.extractor_version,
                        duration_ms=done.duration_ms,
                        file_size=done.file_size,
                        # a row registered without a HEAD (bulk import) learns its record link from the GET
                        record_id=func.coalesce(ExtractionJob.record_id, done.record_id),
                        field_id=func.coalesce(ExtractionJob.field_id, done.field_id),
                        attachment_id=func.coalesce(ExtractionJob.attachment_id, done.attachment_id),
                        completed_at=now,
                        error_message=None,
                        error_kind=None,
                        next_retry_at=None,
                        updated_at=now,
                    )
                )
                written += outcome.rowcount
        return written

    def fill_record_link(self, ref: ObjectRef, link: RecordLink) -> bool:
        """Set the record link on a row that has none yet (registered without a HEAD, e.g. by a bulk import)."""
        with self._session() as session:
            outcome = session.execute(
                update(ExtractionJob)
                .where(
                    ExtractionJob.file_url == ref.file_url,
                    ExtractionJob.record_id.is_(None),
                    ExtractionJob.field_id.is_(None),
                    ExtractionJob.attachment_id.is_(None),
                )
                .values(record_id=link.record_id, field_id=link.field_id, attachment_id=link.attachment_id)
            )
            return bool(outcome.rowcount)

    def status_counts(self, file_urls: Sequence[str]) -> dict[str, JobStatus]:
        """file_url → status for the given rows (progress of an import), in batched IN-queries."""
        statuses: dict[str, JobStatus] = {}
        with self._session() as session:
            for start in range(0, len(file_urls), _IN_BATCH):
                rows = session.execute(
                    select(ExtractionJob.file_url, ExtractionJob.status).where(
                        ExtractionJob.file_url.in_(file_urls[start : start + _IN_BATCH])
                    )
                )
                statuses.update({url: status for url, status in rows})  # dict(result) would read .keys()
        return statuses


@dataclass(frozen=True)
class Completion:
    """What ``complete_batch`` writes for one file (the fields of a ``FileExtraction``)."""

    file_url: str
    etag: str
    file_size: int
    format: str
    extractor_version: str
    duration_ms: int
    result: dict[str, Any]
    record_id: str | None = None
    field_id: str | None = None
    attachment_id: str | None = None


# Rows per multi-row INSERT: 26 columns each stays under SQLite's 32,766 bound parameters.
_INSERT_BATCH = 1000
_RESET_COLUMNS = [
    "filename", "file_size", "format", "etag", "status", "options", "result", "error_message", "error_kind",
    "retry_count", "max_retries", "next_retry_at", "record_id", "field_id", "attachment_id", "partition_key",
    "dagster_run_id", "extractor_version", "duration_ms", "updated_at", "started_at", "completed_at",
    "registered_at",
]  # fmt: skip


def _pending_values(new: NewObject, max_retries: int, now: datetime) -> dict[str, Any]:
    version = new.version
    return {
        "id": _new_id(),
        "file_url": version.ref.file_url,
        "filename": version.ref.filename,
        "file_size": version.size,
        "format": new.format,
        "etag": version.etag,
        "status": JobStatus.PENDING.value,
        "options": dict(version.options),
        "result": None,
        "error_message": None,
        "error_kind": None,
        "retry_count": 0,
        "max_retries": max_retries,
        "next_retry_at": None,
        "record_id": version.link.record_id,
        "field_id": version.link.field_id,
        "attachment_id": version.link.attachment_id,
        "partition_key": new.partition_key,
        "dagster_run_id": None,
        "extractor_version": None,
        "duration_ms": None,
        "created_at": now,
        "updated_at": now,
        "started_at": None,
        "completed_at": None,
        "registered_at": now,
    }


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


def _filters(
    *, status: JobStatus | None = None, file_format: str | None = None, since: datetime | None = None
) -> list[Any]:
    clauses: list[Any] = []
    if status is not None:
        clauses.append(ExtractionJob.status == status)
    if file_format is not None:
        clauses.append(ExtractionJob.format == file_format)
    if since is not None:
        clauses.append(ExtractionJob.created_at >= since)
    return clauses


def _percentile(sorted_values: Sequence[int], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return float(sorted_values[index])


# The record link an app wrote into its row survives a detector's upsert from an object without that metadata.
_KEEP_EXISTING_WHEN_NULL = frozenset({"record_id", "field_id", "attachment_id"})


def _upsert_value(excluded: Any, name: str) -> Any:
    if name in _KEEP_EXISTING_WHEN_NULL:
        return func.coalesce(getattr(excluded, name), getattr(ExtractionJob, name))
    return getattr(excluded, name)


def _new_id() -> str:
    return str(uuid.uuid4())


def with_db_retries(action: Callable[[], T], *, attempts: int, delay_seconds: float) -> T:
    """Run a store write again after a transient database error, so a flaky write does not re-run extraction."""
    for attempt in range(attempts):
        try:
            return action()
        except DatabaseUnavailableError:
            if attempt == attempts - 1:
                raise
            time.sleep(delay_seconds * (2**attempt))
    raise AssertionError("unreachable")
