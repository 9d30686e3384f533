"""What the API works on — the jobs table, S3, the Dagster webserver — and how the CLI's refusals become HTTP statuses.

The API calls exactly what the CLI calls (``store``, ``operations``, the inbox sensor's ``submit_file``); this module
only opens the connections the same way and translates the typed errors:

- 404: no job with that id or file_url;
- 409: the job's state does not allow it (retry a running job, cancel a finished one, submit a known file, read
  the result of a job without one, retry a file deleted from the bucket);
- 422: the input is not usable (not an s3://bucket/key URL, an unsupported file type, a bad page cursor);
- 502: the Dagster webserver answered but refused or failed the request;
- 503: the database, S3 or the Dagster webserver is unreachable, or the webserver belongs to an instance that
  does not extract this file.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException

from extraction_pipeline import operations, settings
from extraction_pipeline.dagster_api import (
    DagsterApiError,
    DagsterWebserver,
    WebserverUnreachableError,
    WrongInstanceError,
)
from extraction_pipeline.errors import DatabaseUnavailableError, ExtractionError, OperationError
from extraction_pipeline.store import JobStore
from extraction_pipeline.store.listing import InvalidCursorError
from extraction_pipeline.store.rows import JobExistsError, JobNotFoundError


@dataclass
class ApiContext:
    """The connections one API process shares across requests (PyBase may build its own and pass it in)."""

    store: JobStore
    bucket: str
    webserver: Callable[[], DagsterWebserver] = DagsterWebserver  # one client per request: they are not shared
    s3_client: Callable[[], Any] | None = None
    # boto3 clients are thread-safe but creating them from the default session is not: one, made once, for all
    _s3: Any = field(default=None, init=False, repr=False)
    _s3_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_environment(cls) -> ApiContext:
        """The same settings the CLI reads: EXTRACTION_DATABASE_URL, EXTRACTION_S3_BUCKET, AWS_ENDPOINT_URL,
        EXTRACTION_DAGSTER_URL."""
        from extraction_pipeline.cli.connections import checked_database_url, s3_client
        from extraction_pipeline.cli.errors import CliError

        try:
            url = checked_database_url()  # as the CLI: a missing SQLite file is an error, not a new empty database
        except CliError as error:
            raise DatabaseUnavailableError(error.message) from error
        return cls(store=JobStore(url), bucket=settings.bucket(), s3_client=s3_client)

    def s3(self) -> Any:
        with self._s3_lock:
            if self._s3 is None:
                if self.s3_client is None:
                    from extraction_pipeline.cli.connections import s3_client

                    self._s3 = s3_client()
                else:
                    self._s3 = self.s3_client()
            return self._s3


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else text


def _refusal(status: int, error: BaseException) -> HTTPException:
    return HTTPException(status_code=status, detail=_first_line(str(getattr(error, "message", None) or error)))


def _status_of(error: BaseException) -> int | None:
    """The HTTP status of a refusal, or None for an error that is a bug (it stays a 500)."""
    simple: list[tuple[type[BaseException], int]] = [
        (JobNotFoundError, 404),
        (operations.UnknownJobError, 404),
        (JobExistsError, 409),
        (operations.JobStateError, 409),
        (InvalidCursorError, 422),
        (WebserverUnreachableError, 503),
        (WrongInstanceError, 503),
        (DagsterApiError, 502),
        (DatabaseUnavailableError, 503),
    ]
    for error_type, status in simple:
        if isinstance(error, error_type):
            return status
    cause = error.__cause__
    if isinstance(error, OperationError):
        # e.g. "cannot retry job …" around an S3 error: unreachable S3 is 503, a deleted object a conflict
        return 503 if isinstance(cause, ExtractionError) and cause.retryable else 409
    if isinstance(error, ExtractionError):  # submit's input checks (bad URL, unsupported type)
        return 503 if error.retryable else 422
    return _database_status(error)


def _database_status(error: BaseException) -> int | None:
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return None
    detail = str(error.orig).lower()
    missing_table = "no such table" in detail or ("relation" in detail and "does not exist" in detail)
    return 503 if missing_table or error.connection_invalidated else None


@contextlib.contextmanager
def refusals() -> Iterator[None]:
    """Turn the CLI's typed refusals raised inside the block into ``HTTPException`` with a one-line reason."""
    try:
        yield
    except HTTPException:
        raise
    except Exception as error:
        status = _status_of(error)
        if status is None:
            raise
        raise _refusal(status, error) from error
