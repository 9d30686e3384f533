"""``extraction-pipeline jobs …``: read the extraction_jobs table; retry and cancel through the running Dagster."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

import click

from extraction_pipeline.cli.connections import open_store, s3_client
from extraction_pipeline.store.models import JobStatus
from extraction_pipeline.store.rows import JobStats, StoredJob

_FORMATS = ["pdf", "dxf", "ifc", "step", "werk24", "image"]
_BULK_STATUSES = ["failed", "cancelled", "completed"]
_FILE_WIDTH = 40
_ERROR_WIDTH = 60


def echo_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))


@click.group(help="Read (and operate on) rows of the extraction_jobs table.")
def jobs() -> None:
    pass


@jobs.command("list", help="List jobs, newest first, as a table (id, file, format, status, retries, updated, error).")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]))
@click.option("--format", "file_format", type=click.Choice(_FORMATS))
@click.option("--since", type=click.DateTime(), help="Created at or after (UTC).")
@click.option("--record-id", help="Jobs of this PyBase record.")
@click.option("--attachment-id", help="Jobs of this PyBase attachment.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per job (without the result).")
def jobs_list(
    status: str | None,
    file_format: str | None,
    since: datetime | None,
    record_id: str | None,
    attachment_id: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    rows = open_store().list(
        status=JobStatus(status) if status else None,
        file_format=file_format,
        since=since.replace(tzinfo=timezone.utc) if since else None,
        record_id=record_id,
        attachment_id=attachment_id,
        limit=limit,
        offset=offset,
    )
    if as_json:
        echo_json([summary(row) for row in rows])
    elif not rows:
        filtered = status or file_format or since or record_id or attachment_id
        click.echo("no jobs" + (" match" if filtered else " yet"))
    else:
        click.echo(jobs_table(rows))


def jobs_table(rows: list[StoredJob]) -> str:
    """An aligned table with a header: one line per job, the error's first line cut to fit."""
    header = ("ID", "FILE", "FORMAT", "STATUS", "RETRIES", "UPDATED (UTC)", "ERROR")
    lines = [header] + [
        (
            row.id,
            _cut(row.filename, _FILE_WIDTH),
            row.format or "?",
            row.status.value,
            f"{row.retry_count}/{row.max_retries}",
            _time(row.updated_at),
            _cut((row.error_message or "").splitlines()[0] if row.error_message else "-", _ERROR_WIDTH),
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + "  " + line[-1]
        for line in lines
    )


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _time(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def summary(row: StoredJob) -> dict[str, Any]:
    data = row.to_json_dict()
    data.pop("result")
    return data


@jobs.command(
    "show",
    help="Show one job by id or file_url (s3://bucket/key): its fields, whole error and a summary of its result "
    "(title block, dimensions with tolerances, tables and BOM, OCR pages, warnings).",
)
@click.argument("job")
@click.option("--json", "as_json", is_flag=True, help="The whole row with the full result as JSON.")
def jobs_show(job: str, as_json: bool) -> None:
    from extraction_pipeline.result_summary import summary_lines

    row = open_store().get(job)
    if as_json:
        echo_json(row.to_json_dict())
        return
    for name, value in summary(row).items():
        if name != "error_message":
            click.echo(f"{name:>18}: {value if value is not None else '-'}")
    if row.error_message:
        click.echo(f"{'error_message':>18}: {row.error_message}")
    if row.result:
        click.echo("")
        click.echo("\n".join(summary_lines(row.result)))
        click.echo(f"(the full result: `extraction-pipeline jobs show {row.id} --json`)")


@jobs.command("stats", help="Counts per status and format, failure rate, p50/p95 duration.")
@click.option("--json", "as_json", is_flag=True)
def jobs_stats(as_json: bool) -> None:
    stats = open_store().stats()
    if as_json:
        echo_json(asdict(stats))
    else:
        click.echo(stats_table(stats))


def stats_table(stats: JobStats) -> str:
    """Counts per status and per format × status, failure rate and p50/p95 duration, as aligned text."""
    statuses = [s.value for s in JobStatus]
    lines = [
        f"total {stats.total}   failure rate {stats.failure_rate:.1%}   "
        f"p50 {_ms(stats.p50_duration_ms)}   p95 {_ms(stats.p95_duration_ms)}",
        "",
        f"{'format':<10}" + "".join(f"{name:>12}" for name in statuses),
    ]
    for file_format, counts in sorted(stats.by_format.items()):
        lines.append(f"{file_format:<10}" + "".join(f"{counts.get(name, 0):>12}" for name in statuses))
    lines.append(f"{'all':<10}" + "".join(f"{stats.by_status.get(name, 0):>12}" for name in statuses))
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return f"{value:.0f} ms" if value is not None else "-"


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
    from extraction_pipeline.dagster_api import DagsterWebserver

    if all_failed:
        bulk_status = bulk_status or "failed"
    if (job is None) == (bulk_status is None):
        raise click.UsageError("give either JOB or --all-failed/--status, not both or neither")
    webserver = DagsterWebserver()
    if bulk_status is None:
        outcome = operations.retry_job(open_store(), job, webserver=webserver, s3_client=s3_client())
        click.echo(f"launched run {outcome.run_id} for {outcome.job.file_url} (job {outcome.job.id} is now "
                   f"{outcome.job.status.value})")  # fmt: skip
        return
    bulk = operations.retry_jobs_with_status(open_store(), JobStatus(bulk_status), webserver=webserver)
    if bulk.backfill_id is None:
        click.echo(f"no {bulk.status.value} jobs: nothing to re-extract")
    else:
        click.echo(f"launched backfill {bulk.backfill_id}: {len(bulk.partition_keys)} partition(s), "
                   f"{bulk.rows_reset} job(s) now pending")  # fmt: skip
    if bulk.skipped:
        click.echo(f"skipped {bulk.skipped} {bulk.status.value} job(s) whose partition that instance does not have")


@jobs.command("cancel", help="Cancel a pending/retrying/processing JOB (id or file_url) and terminate its runs.")
@click.argument("job")
def jobs_cancel(job: str) -> None:
    from extraction_pipeline import operations
    from extraction_pipeline.dagster_api import DagsterWebserver

    outcome = operations.cancel_job(open_store(), job, webserver=DagsterWebserver())
    runs = ", ".join(outcome.terminated_run_ids) or "none active"
    click.echo(f"cancelled job {outcome.job.id} ({outcome.job.file_url}); terminated runs: {runs}")
    for run_id, reason in outcome.termination_failures.items():
        click.echo(f"error: run {run_id} could not be terminated: {reason}", err=True)
    if outcome.termination_failures:
        sys.exit(1)
