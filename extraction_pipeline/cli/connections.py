"""The CLI's connections — the jobs table and S3 — opened without Dagster, with their settings checked first."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extraction_pipeline import settings
from extraction_pipeline.cli.environment import describe_setting
from extraction_pipeline.cli.errors import CliError, ExitCode, bad_database_url

if TYPE_CHECKING:
    from extraction_pipeline.store import JobStore

# A CLI call should fail in seconds when S3 is down, not after botocore's long retry schedule.
_S3_CONNECT_TIMEOUT_SECONDS = 5
_S3_ATTEMPTS = 2


def open_store(*, create: bool = False) -> JobStore:
    """The ``extraction_jobs`` store at ``EXTRACTION_DATABASE_URL``; a SQLite file must exist unless ``create``."""
    from extraction_pipeline.store import JobStore

    url = checked_database_url(create=create)
    return JobStore(url)


def checked_database_url(*, create: bool = False) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = settings.database_url()
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise bad_database_url(str(error)) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.is_file():
            raise _missing_sqlite_file(path)
    return url


def _missing_sqlite_file(path: Path) -> CliError:
    if os.environ.get(settings.DATABASE_URL_ENV):
        setting = describe_setting(settings.DATABASE_URL_ENV, secret=True)
        fix = f"point {settings.DATABASE_URL_ENV} at the existing file, or run `extraction-pipeline db upgrade`"
    elif os.environ.get(settings.STATE_DIR_ENV):
        setting = (f"{settings.DATABASE_URL_ENV} is unset, so the default is used: extraction_jobs.sqlite3 in "
                   f"{describe_setting(settings.STATE_DIR_ENV)}")  # fmt: skip
    else:
        setting = (f"{settings.DATABASE_URL_ENV} and {settings.STATE_DIR_ENV} are unset, so the default is used: "
                   ".state/extraction_jobs.sqlite3 under the current folder")  # fmt: skip
    if not os.environ.get(settings.DATABASE_URL_ENV):
        fix = (
            f"run the command in the project folder, or set {settings.DATABASE_URL_ENV} (the `make dev` banner "
            "prints it); `extraction-pipeline db upgrade` creates an empty table here"
        )
    return CliError(f"no extraction_jobs database at {path}", code=ExitCode.DATABASE_UNREACHABLE,
                    setting=setting, fix=fix)  # fmt: skip


def s3_client() -> Any:
    """The environment's S3 client (``AWS_ENDPOINT_URL``, region), failing fast: a CLI call should not wait."""
    from extraction_pipeline import clients

    return clients.s3_client(max_attempts=_S3_ATTEMPTS, connect_timeout=_S3_CONNECT_TIMEOUT_SECONDS)
