"""Every CLI failure as one line: what went wrong, the setting involved, the fix — and its own exit code.

``ReportingGroup`` wraps every command of the ``extraction-pipeline`` group (and of its sub-groups), so a command
added later gets the same treatment without doing anything. ``explain`` turns any exception into a ``CliError``
by walking its ``__cause__`` chain: our typed errors, botocore's, SQLAlchemy's. It imports none of those
libraries itself — an exception of a library that was never imported cannot have been raised.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from enum import IntEnum
from typing import Any

import click

from extraction_pipeline import settings
from extraction_pipeline.cli.environment import DEV_STACK_DOWN, describe_setting, dev_env_path, dev_stack_stopped


class ExitCode(IntEnum):
    """Distinct exit codes, so scripts can tell causes apart (documented in docs/operations.md)."""

    OK = 0
    FAILED = 1  # a retryable extraction failure (`extract`, `upload --wait`), a refused Dagster request
    # bad usage, unknown job, wrong job state, an unsupported file type (`upload`), a permanent extraction failure
    # (`extract`, `upload --wait`)
    REFUSED = 2
    BAD_SETTING = 3  # a malformed setting, e.g. EXTRACTION_DATABASE_URL
    DATABASE_UNREACHABLE = 4
    DATABASE_NOT_MIGRATED = 5
    S3_UNREACHABLE = 6
    BUCKET_MISSING = 7
    S3_CREDENTIALS = 8  # none found, or rejected by the store
    WEBSERVER_UNREACHABLE = 9
    WRONG_INSTANCE = 10  # the Dagster instance at EXTRACTION_DAGSTER_URL does not know the file
    CANCELLED = 11  # `upload --wait`: the file's job was cancelled
    WAIT_TIMEOUT = 12  # `upload --wait`: the file's job was not final within --timeout
    CHECKS_FAILED = 13  # `doctor`: at least one check failed (each says why on its own line)
    BUG = 70
    INTERRUPTED = 130


class CliError(Exception):
    """A failure the CLI explains: ``message`` (the cause), the ``setting`` involved and the ``fix``."""

    def __init__(self, message: str, *, code: ExitCode, setting: str | None = None, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.setting = setting
        self.fix = fix

    def render(self) -> str:
        """One line: ``error: CAUSE; setting: …; fix: …`` (the message's own line breaks folded)."""
        parts = [f"error: {self.message}"]
        parts += [part for part in (self.setting and f"setting: {self.setting}", self.fix and f"fix: {self.fix}")
                  if part]  # fmt: skip
        return " ".join("; ".join(parts).split())


DEBUG_HINT = "rerun with --debug for the traceback"


class ReportingGroup(click.Group):
    """A click group whose commands never end in a traceback (unless ``--debug``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:  # click's own report is four lines: the usage, a hint, a blank, the error
            command = error.ctx.command_path if error.ctx else ctx.command_path
            usage = CliError(error.format_message().rstrip("."), code=ExitCode.REFUSED, fix=f"see `{command} --help`")
            click.echo(usage.render(), err=True)
            ctx.exit(ExitCode.REFUSED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(ExitCode.INTERRUPTED)
        except Exception as error:
            if _debug_requested(ctx):
                traceback.print_exc(file=sys.stderr)
            report = explain(error)
            click.echo(report.render(), err=True)
            ctx.exit(report.code)


def _debug_requested(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or (root.obj or {}).get("debug", False)


# --- explaining exceptions -----------------------------------------------------------------------------------
def explain(error: BaseException) -> CliError:
    """The ``CliError`` that says what ``error`` means for the user (a bug when nothing matches)."""
    for cause in _chain(error):
        for explainer in _EXPLAINERS:
            explained = explainer(cause)
            if explained is not None:
                return explained
    for cause in _chain(error):
        explained = _explain_typed_error(cause)
        if explained is not None:
            return explained
    return CliError(
        f"unexpected {type(error).__name__}: {_first_line(error)}",
        code=ExitCode.BUG,
        fix=f"{DEBUG_HINT} and report it",
    )


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _loaded(module: str, name: str) -> type | None:
    """``module.name`` if that library is already imported (else no exception can be one of its types)."""
    loaded = sys.modules.get(module)
    return getattr(loaded, name, None) if loaded else None


def _is(error: BaseException, module: str, *names: str) -> bool:
    types = tuple(t for t in (_loaded(module, name) for name in names) if isinstance(t, type))
    return bool(types) and isinstance(error, types)


def _explain_cli_error(error: BaseException) -> CliError | None:
    return error if isinstance(error, CliError) else None


def _explain_operation_error(error: BaseException) -> CliError | None:
    if not _is(error, "extraction_pipeline.errors", "OperationError"):
        return None
    if _is(error, "extraction_pipeline.dagster_api", "WebserverUnreachableError"):
        if dev_stack_stopped(settings.DAGSTER_URL_ENV):
            return _dev_stack_down(ExitCode.WEBSERVER_UNREACHABLE, settings.DAGSTER_URL_ENV)
        return CliError(str(error), code=ExitCode.WEBSERVER_UNREACHABLE)
    if _is(error, "extraction_pipeline.dagster_api", "WrongInstanceError"):
        return CliError(str(error), code=ExitCode.WRONG_INSTANCE, setting=describe_setting(settings.DAGSTER_URL_ENV))
    if _is(error, "extraction_pipeline.dagster_api", "DagsterApiError"):
        return CliError(str(error), code=ExitCode.FAILED)
    if error.__cause__ is not None and not _is(error.__cause__, "extraction_pipeline.errors", "OperationError"):
        return None  # e.g. "cannot retry job …" around an S3 error: an S3 explainer may say more
    return CliError(str(error), code=ExitCode.REFUSED)


def _explain_job_not_found(error: BaseException) -> CliError | None:
    if _is(error, "extraction_pipeline.store.store", "JobNotFoundError"):
        return CliError(f"{error}", code=ExitCode.REFUSED, fix="see `extraction-pipeline jobs list`")
    return None


# --- S3 ------------------------------------------------------------------------------------------------------
_S3_FIX = "start the dev stack (`make dev`) or point AWS_ENDPOINT_URL at your S3-compatible store"


def _endpoint() -> str:
    return describe_setting(settings.ENDPOINT_ENV, default="AWS (boto3's default endpoint)")


def _dev_stack_down(code: ExitCode, setting: str) -> CliError:
    """Inside a folder whose dev stack stopped: say so, rather than blame what its absence left unset."""
    return CliError(
        DEV_STACK_DOWN,
        code=code,
        setting=f"{describe_setting(setting)}; {dev_env_path()} is absent or stale",
        fix="run `make dev` in this folder (or export the settings of another S3 store)",
    )


# The bucket a command was told to use by an option, which then wins over EXTRACTION_S3_BUCKET in messages.
_BUCKET_OPTION: dict[str, str] = {}


def bucket_option(bucket: str | None, option: str = "--bucket") -> str:
    """The bucket to use: ``bucket`` (remembered, so errors name the option) or EXTRACTION_S3_BUCKET's."""
    if bucket:
        _BUCKET_OPTION["bucket"] = bucket
        _BUCKET_OPTION["setting"] = f"{option} {bucket}"
        return bucket
    return settings.bucket()


def _bucket_setting() -> str:
    return _BUCKET_OPTION.get("setting") or describe_setting(settings.BUCKET_ENV, default=settings.DEFAULT_BUCKET)


def _explain_botocore(error: BaseException) -> CliError | None:
    module = "botocore.exceptions"
    if _is(error, module, "NoCredentialsError", "PartialCredentialsError"):
        if dev_stack_stopped(settings.ENDPOINT_ENV):
            return _dev_stack_down(ExitCode.S3_UNREACHABLE, settings.ENDPOINT_ENV)
        return CliError(
            f"no S3 credentials: {_first_line(error)}",
            code=ExitCode.S3_CREDENTIALS,
            setting="AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) are not set",
            fix="export them (the dev stack's banner prints an `export` block; inside the project folder the CLI "
            "reads .state/dev.env while `make dev` runs)",
        )
    if _is(error, module, "EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        if dev_stack_stopped(settings.ENDPOINT_ENV):
            return _dev_stack_down(ExitCode.S3_UNREACHABLE, settings.ENDPOINT_ENV)
        return CliError(
            f"cannot reach the S3 endpoint: {_first_line(error)}",
            code=ExitCode.S3_UNREACHABLE,
            setting=_endpoint(),
            fix=_S3_FIX,
        )
    if _is(error, module, "ClientError"):
        return _explain_client_error(error)
    return None


def _explain_client_error(error: Any) -> CliError | None:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    # HEAD requests have no body: a missing bucket is a bare 404 there
    if code == "NoSuchBucket" or (code == "404" and getattr(error, "operation_name", "") == "HeadBucket"):
        bucket = details.get("BucketName") or _BUCKET_OPTION.get("bucket") or settings.bucket()
        return CliError(
            f"bucket {bucket!r} does not exist at the S3 endpoint",
            code=ExitCode.BUCKET_MISSING,
            setting=f"{_bucket_setting()}; {_endpoint()}",
            fix=f"create the bucket, or set {settings.BUCKET_ENV} (or --bucket) to an existing one",
        )
    if code in {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "ExpiredToken"}:
        return CliError(
            f"the S3 store refused the credentials ({code})",
            code=ExitCode.S3_CREDENTIALS,
            setting=f"AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; {_endpoint()}",
            fix="use credentials that may read and write the bucket",
        )
    return None


# --- the extraction_jobs database --------------------------------------------------------------------------
_DB_UPGRADE = "extraction-pipeline db upgrade"


def _database_setting() -> str:
    return describe_setting(settings.DATABASE_URL_ENV, default=settings.default_database_url(), secret=True)


def bad_database_url(reason: str) -> CliError:
    return CliError(
        f"{settings.DATABASE_URL_ENV} is not a valid database URL ({reason})",
        code=ExitCode.BAD_SETTING,
        setting=_database_setting(),
        fix="use a SQLAlchemy URL such as postgresql://user:password@host:5432/db or sqlite:////abs/path.sqlite3",
    )


def database_not_migrated(detail: str) -> CliError:
    return CliError(
        f"the database has no extraction_jobs table yet ({detail})",
        code=ExitCode.DATABASE_NOT_MIGRATED,
        setting=_database_setting(),
        fix=f"run `{_DB_UPGRADE}`",
    )


def _explain_sqlalchemy(error: BaseException) -> CliError | None:
    module = "sqlalchemy.exc"
    if _is(error, module, "ArgumentError", "NoSuchModuleError"):
        return bad_database_url(_first_line(error))
    if not _is(error, module, "DBAPIError"):
        return None
    detail = _first_line(getattr(error, "orig", None) or error)
    lowered = detail.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return database_not_migrated(detail)
    if "database" in lowered and "does not exist" in lowered:
        fix = "create the database (or fix the name in the URL), then run `" + _DB_UPGRADE + "`"
        return CliError(f"the database does not exist ({detail})", code=ExitCode.DATABASE_UNREACHABLE,
                        setting=_database_setting(), fix=fix)  # fmt: skip
    if _is(error, module, "OperationalError", "InterfaceError"):
        return CliError(
            f"cannot reach the extraction_jobs database ({detail})",
            code=ExitCode.DATABASE_UNREACHABLE,
            setting=_database_setting(),
            fix=f"start the database server or point {settings.DATABASE_URL_ENV} at a reachable one",
        )
    return None


def _explain_typed_error(error: BaseException) -> CliError | None:
    """Our own typed errors that no library error explained better."""
    if _is(error, "extraction_pipeline.store.migrate", "DatabaseNotAtHeadError"):
        fix = f"run `{_DB_UPGRADE}`"
        return CliError(str(error), code=ExitCode.DATABASE_NOT_MIGRATED, setting=_database_setting(), fix=fix)
    if _is(error, "extraction_pipeline.errors", "OperationError"):
        return CliError(str(error), code=ExitCode.REFUSED)
    if not _is(error, "extraction_pipeline.errors", "ExtractionError"):
        return None
    code = ExitCode.FAILED if getattr(error, "retryable", False) else ExitCode.REFUSED
    return CliError(f"{getattr(error, 'message', error)}", code=code)


_EXPLAINERS: tuple[Callable[[BaseException], CliError | None], ...] = (
    _explain_cli_error,
    _explain_operation_error,
    _explain_job_not_found,
    _explain_botocore,
    _explain_sqlalchemy,
)
