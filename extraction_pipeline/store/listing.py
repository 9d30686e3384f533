"""Listing jobs: filters shared by ``jobs list``, ``jobs stats`` and the HTTP API, and keyset pages (newest first).

A page ends at a ``PageCursor`` — the (created_at, id) of its last row — and the next page starts strictly after
it, so rows inserted meanwhile never shift a page (as an OFFSET would) and every row is listed once.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from extraction_pipeline.store.models import ExtractionJob, JobStatus
from extraction_pipeline.store.rows import StoredJob

# SQLite keeps datetimes as text: rows an app inserted carry CURRENT_TIMESTAMP ("YYYY-MM-DD HH:MM:SS") and rows
# the pipeline wrote carry microseconds. Comparing them as text would sort the short form before its equal long
# form, so on SQLite the keyset compares both padded to the long form.
_SQLITE_TEXT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_SQLITE_TEXT_LENGTH = 26


@dataclass(frozen=True)
class JobFilter:
    """Which rows to list; None means any."""

    status: JobStatus | None = None
    file_format: str | None = None
    record_id: str | None = None
    attachment_id: str | None = None
    file_url: str | None = None
    since: datetime | None = None  # created at or after

    def clauses(self) -> list[Any]:
        equal = {
            ExtractionJob.status: self.status,
            ExtractionJob.format: self.file_format,
            ExtractionJob.record_id: self.record_id,
            ExtractionJob.attachment_id: self.attachment_id,
            ExtractionJob.file_url: self.file_url,
        }
        clauses: list[Any] = [column == value for column, value in equal.items() if value is not None]
        if self.since is not None:
            clauses.append(ExtractionJob.created_at >= self.since)
        return clauses

    @property
    def any_set(self) -> bool:
        return bool(self.clauses())


class InvalidCursorError(ValueError):
    """A page cursor this store did not hand out (or one that was altered)."""


@dataclass(frozen=True)
class PageCursor:
    """The (created_at, id) of the last row of a page: the next page starts after it."""

    created_at: datetime
    job_id: str

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), self.job_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> PageCursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            created_at, job_id = json.loads(raw)
            parsed = datetime.fromisoformat(created_at)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
            raise InvalidCursorError(f"not a page cursor: {token[:80]!r}") from error
        if not isinstance(job_id, str) or parsed.tzinfo is None:
            raise InvalidCursorError(f"not a page cursor: {token[:80]!r}")
        return cls(parsed.astimezone(timezone.utc), job_id)


@dataclass(frozen=True)
class JobPage:
    jobs: list[StoredJob]
    next_cursor: PageCursor | None  # None: this was the last page


class ListingRows:
    """``JobStore``'s keyset listing (see ``store.JobStore`` for the session and engine)."""

    _session: Callable[[], AbstractContextManager[Session]]
    engine: Engine

    def page(self, job_filter: JobFilter, *, after: PageCursor | None = None, limit: int = 50) -> JobPage:
        """Up to ``limit`` rows matching ``job_filter``, newest first, starting after ``after``."""
        created = self._created_key()
        query = select(ExtractionJob).where(*job_filter.clauses())
        if after is not None:
            since = self._created_value(after.created_at)
            query = query.where(or_(created < since, and_(created == since, ExtractionJob.id < after.job_id)))
        query = query.order_by(created.desc(), ExtractionJob.id.desc()).limit(limit + 1)
        with self._session() as session:
            rows = [StoredJob.from_row(row) for row in session.scalars(query)]
        if len(rows) <= limit:
            return JobPage(rows, None)
        last = rows[limit - 1]
        return JobPage(rows[:limit], PageCursor(last.created_at, last.id))

    def _created_key(self) -> Any:
        if self.engine.dialect.name != "sqlite":
            return ExtractionJob.created_at
        return func.substr(cast(ExtractionJob.created_at, String) + ".000000", 1, _SQLITE_TEXT_LENGTH)

    def _created_value(self, value: datetime) -> Any:
        if self.engine.dialect.name != "sqlite":
            return value
        return value.astimezone(timezone.utc).strftime(_SQLITE_TEXT_FORMAT)
