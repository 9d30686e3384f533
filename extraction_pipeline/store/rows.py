"""What the store reads and writes: row snapshots, the detector's new objects, and the values of a fresh row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_

from extraction_pipeline.errors import ErrorKind, ExtractionError
from extraction_pipeline.objects import ObjectVersion, RecordLink
from extraction_pipeline.store.models import ExtractionJob, JobStatus

# SQLite caps bound parameters per statement; PostgreSQL is far above this. Batched IN-queries use it.
IN_BATCH = 500


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


class JobNotFoundError(ExtractionError):
    """No row has that id or file_url."""


class JobExistsError(ExtractionError):
    """A job for that file_url exists already (submit is for new files)."""


@dataclass(frozen=True)
class FileExtraction:
    """A completed extraction of one object version: what ``JobStore.complete`` writes into its row."""

    file_url: str
    etag: str
    file_size: int
    format: str
    extractor_version: str
    duration_ms: int
    result: dict[str, Any]
    record_link: RecordLink = field(default_factory=RecordLink)  # from the object's S3 user metadata


# Rows per multi-row INSERT: 26 columns each stays under SQLite's 32,766 bound parameters.
INSERT_BATCH = 1000
RESET_COLUMNS = [
    "filename", "file_size", "format", "etag", "status", "options", "result", "error_message", "error_kind",
    "retry_count", "max_retries", "next_retry_at", "record_id", "field_id", "attachment_id", "partition_key",
    "dagster_run_id", "extractor_version", "duration_ms", "updated_at", "started_at", "completed_at",
    "registered_at",
]  # fmt: skip


def pending_values(new: NewObject, max_retries: int, now: datetime) -> dict[str, Any]:
    version = new.version
    return {
        "id": new_id(),
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


# The merge of the app's record link and options with the object's metadata, whichever is written first: the
# app's values win. An app writes its row with the upsert in ``store/inbox.py`` (APP_UPSERT_SQL); a detector
# writes with ``upsert_value`` below. Both are single statements, so the database applies one after the other.
_LINK_COLUMNS = frozenset({"record_id", "field_id", "attachment_id"})


def json_merge(dialect_name: str, base: Any, over: Any) -> Any:
    """``base`` with ``over``'s keys on top, in SQL (jsonb ``||`` on PostgreSQL, ``json_patch`` on SQLite)."""
    if dialect_name == "postgresql":
        return base.op("||")(over)
    return func.json_patch(base, over)


def upsert_value(excluded: Any, name: str, dialect_name: str = "sqlite") -> Any:
    """The value a detector's upsert (INSERT … ON CONFLICT (file_url) DO UPDATE) sets in ``name`` of an existing row.

    - The record link: the row's (the app's) wins; the object's metadata only fills what the row lacks.
    - Options, while the row describes no version yet (an app's inbox row) or the same one: the row's keys win
      over the metadata's. For a re-upload (another ETag), the new object's metadata wins on the keys it sets —
      a changed ``x-amz-meta-extraction-*`` takes effect — and the row's other keys (the app's) are kept.
    - Everything else resets to the new version's values.
    """
    if name in _LINK_COLUMNS:
        return func.coalesce(getattr(ExtractionJob, name), getattr(excluded, name))
    if name == "options":
        same_version = or_(ExtractionJob.etag.is_(None), ExtractionJob.etag == excluded.etag)
        return case(
            (same_version, json_merge(dialect_name, excluded.options, ExtractionJob.options)),
            else_=json_merge(dialect_name, ExtractionJob.options, excluded.options),
        )
    return getattr(excluded, name)


def new_id() -> str:
    return str(uuid.uuid4())
