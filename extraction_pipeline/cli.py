"""``extraction-pipeline``: a thin command line over the same functions the sensor and the asset use."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from extraction_pipeline import settings
from extraction_pipeline.errors import ExtractionError
from extraction_pipeline.store import JobStatus, JobStore, StoredJob


def _store() -> JobStore:
    from extraction_pipeline.resources import shared_store

    return shared_store(settings.database_url())


def _s3_client() -> Any:
    # boto3 reads AWS_ENDPOINT_URL and the standard credential variables itself, as the S3Resource does.
    from dagster_aws.s3 import S3Resource

    return S3Resource(region_name=settings.aws_region()).get_client()


def _echo_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))


@click.group(help="Extract engineering files uploaded to S3 into the extraction_jobs table (a Dagster code location).")
def main() -> None:
    pass


# --- extract ---------------------------------------------------------------------------------------------
@main.command(help="Extract a local FILE with the pipeline's extractors (no Dagster, no S3) and print the result.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Extractor option (repeatable).")
def extract(file: Path, as_json: bool, options: tuple[str, ...]) -> None:
    from extraction_pipeline.extractors import extract_file

    try:
        result = extract_file(file, filename=file.name, options=_parse_options(options))
    except ExtractionError as error:
        _echo_json({"error": error.to_dict()})
        sys.exit(1 if error.retryable else 2)
    if as_json:
        _echo_json(result.to_json_dict())
        return
    payload = result.to_json_dict()
    counts = {k: len(v) for k, v in payload.items() if isinstance(v, list) and v}
    click.echo(f"{file.name}: {result.format.value} ({result.extractor_version}) {counts}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}")


def _parse_options(pairs: tuple[str, ...]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        options[key] = value
    return options


# --- upload ----------------------------------------------------------------------------------------------
@main.command(help="Upload FILE(s) to the configured bucket, optionally linked to a PyBase record attachment.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bucket", envvar=settings.BUCKET_ENV, required=True, help="Default: $EXTRACTION_S3_BUCKET.")
@click.option("--prefix", envvar=settings.PREFIX_ENV, default="", help="Key prefix. Default: $EXTRACTION_S3_PREFIX.")
@click.option("--record-id")
@click.option("--field-id")
@click.option("--attachment-id")
def upload(
    files: tuple[Path, ...],
    bucket: str,
    prefix: str,
    record_id: str | None,
    field_id: str | None,
    attachment_id: str | None,
) -> None:
    from extraction_pipeline.s3 import META_ATTACHMENT_ID, META_FIELD_ID, META_RECORD_ID, upload_file

    metadata = {
        name: value
        for name, value in ((META_RECORD_ID, record_id), (META_FIELD_ID, field_id), (META_ATTACHMENT_ID, attachment_id))
        if value
    }
    client = _s3_client()
    for path in files:
        ref = upload_file(client, path, bucket, f"{prefix}{path.name}", metadata=metadata)
        click.echo(ref.file_url)


# --- jobs ------------------------------------------------------------------------------------------------
@main.group(help="Read (and operate on) rows of the extraction_jobs table.")
def jobs() -> None:
    pass


@jobs.command("list", help="List jobs, newest first.")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]))
@click.option("--format", "file_format", type=click.Choice(["pdf", "dxf", "ifc", "step", "werk24"]))
@click.option("--since", type=click.DateTime(), help="Created at or after (UTC).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True)
def jobs_list(
    status: str | None, file_format: str | None, since: datetime | None, limit: int, offset: int, as_json: bool
) -> None:
    rows = _store().list(
        status=JobStatus(status) if status else None,
        file_format=file_format,
        since=since.replace(tzinfo=timezone.utc) if since else None,
        limit=limit,
        offset=offset,
    )
    if as_json:
        _echo_json([_summary(row) for row in rows])
        return
    for row in rows:
        duration = f"{row.duration_ms} ms" if row.duration_ms is not None else "-"
        click.echo(f"{row.id}  {row.status.value:<10} {row.format or '?':<6} {duration:>9}  {row.file_url}")


def _summary(row: StoredJob) -> dict[str, Any]:
    data = row.to_json_dict()
    data.pop("result")
    return data


@jobs.command("show", help="Show one job by id or file_url (s3://bucket/key).")
@click.argument("job")
@click.option("--json", "as_json", is_flag=True)
def jobs_show(job: str, as_json: bool) -> None:
    row = _get_or_exit(job)
    if as_json:
        _echo_json(row.to_json_dict())
        return
    for name, value in _summary(row).items():
        click.echo(f"{name:>18}: {value}")
    if row.result:
        click.echo(f"{'result':>18}: {json.dumps(row.result)[:2000]}")


def _get_or_exit(job: str) -> StoredJob:
    from extraction_pipeline.store.store import JobNotFoundError

    try:
        return _store().get(job)
    except JobNotFoundError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


@jobs.command("stats", help="Counts per status and format, failure rate, p50/p95 duration.")
@click.option("--json", "as_json", is_flag=True)
def jobs_stats(as_json: bool) -> None:
    from extraction_pipeline.operations import stats_dict, stats_table

    stats = _store().stats()
    if as_json:
        _echo_json(stats_dict(stats))
    else:
        click.echo(stats_table(stats))


_BULK_STATUSES = ["failed", "cancelled", "completed"]


@jobs.command(
    "retry",
    help="Re-extract JOB (id or file_url) through the running Dagster instance ($EXTRACTION_DAGSTER_URL), "
    "or every job with a status as one backfill (--all-failed, --status completed after an extractor upgrade).",
)
@click.argument("job", required=False)
@click.option("--all-failed", is_flag=True, help="Every failed job (same as --status failed).")
@click.option("--status", "bulk_status", type=click.Choice(_BULK_STATUSES), help="Every job with this status.")
def jobs_retry(job: str | None, all_failed: bool, bulk_status: str | None) -> None:
    from extraction_pipeline import operations

    if all_failed:
        bulk_status = bulk_status or "failed"
    if (job is None) == (bulk_status is None):
        raise click.UsageError("give either JOB or --all-failed/--status, not both or neither")
    webserver = operations.DagsterWebserver()
    with _operation_errors():
        if bulk_status is None:
            outcome = operations.retry_job(_store(), job, webserver=webserver, s3_client=_s3_client())
            click.echo(f"launched run {outcome.run_id} for {outcome.job.file_url} (job {outcome.job.id} is now "
                       f"{outcome.job.status.value})")  # fmt: skip
            return
        bulk = operations.retry_jobs_with_status(_store(), JobStatus(bulk_status), webserver=webserver)
    if bulk.backfill_id is None:
        click.echo(f"no {bulk.status.value} jobs: nothing to re-extract")
    else:
        click.echo(f"launched backfill {bulk.backfill_id}: {len(bulk.partition_keys)} partition(s), "
                   f"{bulk.rows_reset} job(s) now pending")  # fmt: skip


@jobs.command("cancel", help="Cancel a pending/retrying/processing JOB (id or file_url) and terminate its runs.")
@click.argument("job")
def jobs_cancel(job: str) -> None:
    from extraction_pipeline import operations

    with _operation_errors():
        outcome = operations.cancel_job(_store(), job, webserver=operations.DagsterWebserver())
    runs = ", ".join(outcome.terminated_run_ids) or "none active"
    click.echo(f"cancelled job {outcome.job.id} ({outcome.job.file_url}); terminated runs: {runs}")
    for run_id, reason in outcome.termination_failures.items():
        click.echo(f"error: run {run_id} could not be terminated: {reason}", err=True)
    if outcome.termination_failures:
        sys.exit(1)


@contextmanager
def _operation_errors() -> Iterator[None]:
    """Typed operator errors (unknown id, wrong state, webserver down) → the message and exit code 2."""
    from extraction_pipeline.operations import OperationError

    try:
        yield
    except OperationError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


# --- db --------------------------------------------------------------------------------------------------
@main.group(help="The extraction_jobs database.")
def db() -> None:
    pass


@db.command(help="Run the Alembic migrations up to the newest revision.")
def upgrade() -> None:
    from extraction_pipeline.store.migrate import upgrade_database

    url = settings.database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade_database(url)
    click.echo(f"extraction_jobs is up to date in {_redacted(url)}")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- dev -------------------------------------------------------------------------------------------------
@main.command(help="Run the local stack: S3 (moto) on loopback, the SQLite table, dagster dev, seeded with samples.")
@click.option("--port", default=3000, show_default=True, help="Dagster UI port on 127.0.0.1.")
@click.option("--s3-port", default=4566, show_default=True, help="Local S3 endpoint port on 127.0.0.1.")
@click.option("--no-seed", is_flag=True, help="Start with an empty bucket.")
def dev(port: int, s3_port: int, no_seed: bool) -> None:
    from extraction_pipeline.devstack import run_dev_stack

    sys.exit(run_dev_stack(ui_port=port, s3_port=s3_port, seed=not no_seed))


if __name__ == "__main__":
    main()
