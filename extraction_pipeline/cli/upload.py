"""``upload``: files into the watched bucket, and with ``--wait`` the outcome of their extraction.

A file the sensor would skip (an extension no extractor reads) is refused before anything is sent, unless
``--force``: otherwise the upload "succeeds" and no row ever appears. After the upload the command names the next
one to run; ``--wait`` follows each file's row until it is final and exits with the outcome's code.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from extraction_pipeline import settings
from extraction_pipeline.cli.connections import open_store, s3_client
from extraction_pipeline.cli.errors import CliError, ExitCode, bucket_option
from extraction_pipeline.names import EXTENSION_FORMAT_NAMES, extension_of, jobs_show_command

if TYPE_CHECKING:
    from extraction_pipeline.objects import ObjectRef
    from extraction_pipeline.store import JobStore, StoredJob

WAIT_POLL_SECONDS = 1.0
DEFAULT_WAIT_TIMEOUT_SECONDS = 600.0
_HINTS_SHOWN = 5  # more files than this: one `jobs list` hint instead of a line each


@click.command(help="Upload FILE(s) to the watched bucket, optionally linked to a PyBase record attachment.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bucket", help=f"Default: ${settings.BUCKET_ENV}, else {settings.DEFAULT_BUCKET}.")
@click.option("--prefix", envvar=settings.PREFIX_ENV, default="", help="Key prefix. Default: $EXTRACTION_S3_PREFIX.")
@click.option("--record-id")
@click.option("--field-id")
@click.option("--attachment-id")
@click.option("--force", is_flag=True, help="Upload files of an unsupported type too (they are not extracted).")
@click.option(
    "--wait",
    is_flag=True,
    help="Wait until each file's job is final; exit 0 completed, 1 failed (retryable), 2 failed (permanent), "
    "11 cancelled, 12 not final within --timeout.",
)
@click.option("--timeout", type=float, default=DEFAULT_WAIT_TIMEOUT_SECONDS, show_default=True,
              help="Seconds --wait waits at most.")  # fmt: skip
def upload(
    files: tuple[Path, ...],
    bucket: str | None,
    prefix: str,
    record_id: str | None,
    field_id: str | None,
    attachment_id: str | None,
    force: bool,
    wait: bool,
    timeout: float,
) -> None:
    from extraction_pipeline.s3 import META_ATTACHMENT_ID, META_FIELD_ID, META_RECORD_ID, upload_file

    unsupported = [path for path in files if extension_of(path.name) not in EXTENSION_FORMAT_NAMES]
    if unsupported and not force:
        raise unsupported_type(unsupported)
    target = bucket_option(bucket)
    link = ((META_RECORD_ID, record_id), (META_FIELD_ID, field_id), (META_ATTACHMENT_ID, attachment_id))
    metadata = {name: value for name, value in link if value}
    client = s3_client()
    extracted: list[ObjectRef] = []
    for path in files:
        ref = upload_file(client, path, target, f"{prefix}{path.name}", metadata=metadata)
        click.echo(ref.file_url)
        if path in unsupported:
            click.echo(f"note: {ref.file_url} is not extracted (unsupported type, uploaded with --force)", err=True)
        else:
            extracted.append(ref)
    if wait:
        sys.exit(wait_for_jobs(client, extracted, timeout=timeout))
    _print_next_steps(extracted)


def unsupported_type(paths: Sequence[Path]) -> CliError:
    names = ", ".join(path.name for path in paths)
    supported = " ".join(EXTENSION_FORMAT_NAMES)
    return CliError(
        f"{names}: not a supported file type (supported: {supported})",
        code=ExitCode.REFUSED,
        fix="upload a drawing or model of a supported type, or pass --force to upload it anyway (it is not extracted)",
    )


def _print_next_steps(refs: Sequence[ObjectRef]) -> None:
    """On stderr, so `$(extraction-pipeline upload F)` captures the URLs only."""
    if not refs:
        return
    if len(refs) > _HINTS_SHOWN:
        click.echo("next: extraction-pipeline jobs list   (rows appear with the sensor's next tick)", err=True)
        return
    for ref in refs:
        click.echo(f"next: {jobs_show_command(ref.file_url)}   (its row appears with the sensor's next tick; "
                   "or upload with --wait)", err=True)  # fmt: skip


# --- --wait ------------------------------------------------------------------------------------------------------
def outcome_code(job: StoredJob) -> ExitCode:
    """The exit code of a final row: the same 1 / 2 split as `extract` for failures."""
    from extraction_pipeline.errors import ErrorKind
    from extraction_pipeline.store.models import JobStatus

    if job.status is JobStatus.COMPLETED:
        return ExitCode.OK
    if job.status is JobStatus.CANCELLED:
        return ExitCode.CANCELLED
    return ExitCode.FAILED if job.error_kind is ErrorKind.RETRYABLE else ExitCode.REFUSED


def describe_outcome(job: StoredJob) -> str:
    if job.error_message:
        reason = (job.error_message.strip().splitlines() or [""])[0]
        kind = f" ({job.error_kind.value})" if job.error_kind else ""
        return f"{job.file_url}: {job.status.value}{kind}: {reason}"
    took = f" in {job.duration_ms / 1000:.1f} s" if job.duration_ms is not None else ""
    return f"{job.file_url}: {job.status.value} ({job.format}{took}); see `{jobs_show_command(job.id)}`"


def wait_for_jobs(client: Any, refs: Sequence[ObjectRef], *, timeout: float) -> int:
    """Follow each file's row (the uploaded version's, by ETag) until final; the first non-zero outcome's code."""
    from extraction_pipeline.s3 import head_object

    store = open_store()
    waiting = {ref.file_url: (ref, head_object(client, ref).etag) for ref in refs}
    codes: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    while waiting:
        for file_url, (ref, etag) in list(waiting.items()):
            job = _final_job(store, ref, etag)
            if job is not None:
                click.echo(describe_outcome(job))
                codes[file_url] = outcome_code(job)
                del waiting[file_url]
        if waiting and time.monotonic() >= deadline:
            for ref, etag in waiting.values():
                click.echo(_not_final(store, ref, etag, timeout), err=True)
                codes[ref.file_url] = ExitCode.WAIT_TIMEOUT
            break
        if waiting:
            time.sleep(WAIT_POLL_SECONDS)
    return next((codes[ref.file_url] for ref in refs if codes.get(ref.file_url)), ExitCode.OK)


def _final_job(store: JobStore, ref: ObjectRef, etag: str) -> StoredJob | None:
    from extraction_pipeline.store.models import FINAL_STATUSES

    job = store.find(ref)
    if job is None or job.etag != etag or job.status not in FINAL_STATUSES:
        return None
    return job


def _not_final(store: JobStore, ref: ObjectRef, etag: str, timeout: float) -> str:
    job = store.find(ref)
    if job is None or job.etag != etag:
        return CliError(
            f"{ref.file_url}: no row after {timeout:.0f} s: no sensor picked the upload up",
            code=ExitCode.WAIT_TIMEOUT,
            setting=f"bucket {ref.bucket}",
            fix="check that the Dagster daemon runs and watches this bucket (`extraction-pipeline doctor`)",
        ).render()
    return CliError(
        f"{ref.file_url}: still {job.status.value} after {timeout:.0f} s",
        code=ExitCode.WAIT_TIMEOUT,
        fix=f"follow it with `{jobs_show_command(job.id)}`, or wait longer with --timeout",
    ).render()
