"""SQLAlchemy 2.0 model of ``extraction_jobs``.

This table is public API: PyBase reads it. Columns, status values and indexes change only together with an
Alembic migration in ``store/migrations/versions`` (the test suite checks the model and the migrations agree).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text, TypeDecorator, func, text
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from extraction_pipeline.errors import ErrorKind


class JobStatus(str, Enum):
    PENDING = "pending"
    PROCESSING = "processing"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = frozenset({JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.RETRYING})
FINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


JsonType = JSON().with_variant(JSONB(), "postgresql")


def _enum(enum_cls: type[Enum], name: str) -> SqlEnum:
    # VARCHAR + CHECK on every backend (no native PG enum): adding a value is a plain migration.
    return SqlEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The inbox: pending rows an app inserted that the pipeline has not registered yet (a partial index).
_UNREGISTERED = text("status = 'pending' AND registered_at IS NULL")


class Base(DeclarativeBase):
    pass


class ExtractionJob(Base):
    __tablename__ = "extraction_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    file_url: Mapped[str] = mapped_column(Text, nullable=False)
    # Server defaults (revision 0002): an app inserting a row gives only id, file_url and status ('the inbox').
    filename: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    format: Mapped[str | None] = mapped_column(String(16))
    etag: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[JobStatus] = mapped_column(
        _enum(JobStatus, "extraction_job_status"), nullable=False, default=JobStatus.PENDING
    )
    options: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict, server_default="{}")
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[ErrorKind | None] = mapped_column(_enum(ErrorKind, "extraction_error_kind"))
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_retries: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    next_retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    record_id: Mapped[str | None] = mapped_column(String(64))
    field_id: Mapped[str | None] = mapped_column(String(64))
    attachment_id: Mapped[str | None] = mapped_column(String(64))
    partition_key: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    dagster_run_id: Mapped[str | None] = mapped_column(String(64))
    extractor_version: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow, server_default=func.now()
    )
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # NULL until the pipeline registered the file's partition: a pending row with NULL was inserted by an app.
    registered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ux_extraction_jobs_file_url", "file_url", unique=True),
        Index("ix_extraction_jobs_status", "status"),
        Index("ix_extraction_jobs_status_next_retry_at", "status", "next_retry_at"),
        Index("ix_extraction_jobs_record_attachment", "record_id", "attachment_id"),
        Index("ix_extraction_jobs_created_at", "created_at"),
        Index("ix_extraction_jobs_inbox", "created_at", postgresql_where=_UNREGISTERED, sqlite_where=_UNREGISTERED),
    )

    def __repr__(self) -> str:
        return f"<ExtractionJob {self.id} {self.status.value} {self.file_url}>"
