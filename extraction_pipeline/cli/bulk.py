"""``extraction-pipeline bulk-import``: a thin command over ``extraction_pipeline.bulk_import``."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from typing import Any

import click

from extraction_pipeline import settings
from extraction_pipeline.cli.connections import open_store, s3_client
from extraction_pipeline.cli.errors import CliError, ExitCode

_FORMATS = ("pdf", "dxf", "ifc", "step")


def _formats(raw: str | None) -> frozenset[str] | None:
    if not raw:
        return None
    chosen = frozenset(name.strip().lower().lstrip(".") for name in raw.split(",") if name.strip())
    unknown = sorted(chosen - set(_FORMATS))
    if unknown:
        raise click.BadParameter(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(_FORMATS)}")
    return chosen


def _instance() -> Any:
    """The Dagster instance of the running webserver and daemon (``$DAGSTER_HOME``): partitions are added to it."""
    from dagster import DagsterInstance

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise CliError(
            "DAGSTER_HOME is not set: bulk-import registers partitions in the Dagster instance directly",
            code=ExitCode.BAD_SETTING,
            setting="DAGSTER_HOME",
            fix="set it to the folder of the instance's dagster.yaml (the `make dev` banner prints it)",
        )
    try:
        return DagsterInstance.get()
    except Exception as error:
        raise CliError(f"cannot open the Dagster instance in {home}: {error}".splitlines()[0],
                       code=ExitCode.BAD_SETTING, setting="DAGSTER_HOME") from error  # fmt: skip


@click.command(
    "bulk-import",
    help="Import every supported file under s3://BUCKET/PREFIX: register rows and partitions in batches, launch one "
    "backfill of the missing or changed files through the running webserver ($EXTRACTION_DAGSTER_URL) and show its "
    "progress. Safe to run again: it imports only what is missing.",
)
@click.argument("source", required=False)
@click.option("--formats", help="Only these formats, e.g. pdf,dxf (default: every supported one).")
@click.option("--since", type=click.DateTime(), help="Only objects last modified at or after this date (UTC).")
@click.option(
    "--dry-run", is_flag=True, help="Print what would be imported (counts by format and size); write nothing."
)
@click.option("--no-wait", is_flag=True, help="Launch the backfill and return without watching it.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=settings.DEFAULT_BULK_IMPORT_BATCH,
    show_default=True,
    help="Files registered per statement and per instance call (a run's files: EXTRACTION_BACKFILL_BATCH_SIZE).",
)
@click.option("--watch", "watch_id", metavar="BACKFILL_ID", help="Only watch the progress of an earlier import.")
def bulk_import(
    source: str | None,
    formats: str | None,
    since: datetime | None,
    dry_run: bool,
    no_wait: bool,
    batch_size: int,
    watch_id: str | None,
) -> None:
    from extraction_pipeline import bulk_import as bulk
    from extraction_pipeline.operations import DagsterWebserver

    webserver = DagsterWebserver()
    if watch_id:
        sys.exit(_watch(bulk, watch_id, webserver=webserver, partition_keys=None))
    if not source:
        raise click.UsageError("give s3://BUCKET/PREFIX (or --watch BACKFILL_ID)")
    try:
        import_source = bulk.ImportSource.parse(source)
    except bulk.BulkImportError as error:
        raise click.BadParameter(str(error), param_hint="SOURCE") from None
    outcome = bulk.run_import(
        import_source,
        client=s3_client(),
        store=open_store(),
        instance=_instance(),
        webserver=webserver,
        max_retries=settings.env_int(settings.MAX_RETRIES_ENV, settings.DEFAULT_MAX_RETRIES),
        formats=_formats(formats),
        since=since.replace(tzinfo=timezone.utc) if since else None,
        batch_size=batch_size,
        dry_run=dry_run,
        on_batch=lambda counts: _echo_status(f"listed {counts.listed}, {counts.to_import} to import …"),
    )
    _echo_status("")
    for line in bulk.describe_counts(outcome.counts, dry_run=dry_run):
        click.echo(line)
    if dry_run:
        return
    if outcome.backfill_id is None:
        click.echo("nothing to import: every file is registered and its row is final or in flight")
        return
    click.echo(f"launched backfill {outcome.backfill_id} ({len(outcome.partition_keys)} files): "
               f"{bulk.backfill_url(webserver, outcome.backfill_id)}")  # fmt: skip
    if no_wait:
        click.echo(_resume_hint(outcome.backfill_id))
        return
    sys.exit(_watch(bulk, outcome.backfill_id, webserver=webserver, partition_keys=outcome.partition_keys))


def _watch(bulk: Any, backfill_id: str, *, webserver: Any, partition_keys: list[str] | None) -> int:
    """Watch until every row is final; Ctrl-C stops watching only. Exit 1 when a file failed."""
    try:
        progress = bulk.watch_backfill(
            backfill_id,
            store=open_store(),
            webserver=webserver,
            partition_keys=partition_keys,
            show=lambda snapshot: _echo_status(bulk.render_progress(snapshot)),
        )
    except KeyboardInterrupt:
        _echo_status("")
        click.echo("stopped watching; the import goes on in Dagster. " + _resume_hint(backfill_id))
        return ExitCode.INTERRUPTED
    _echo_status("")
    click.echo(bulk.render_progress(progress))
    if progress.remaining:
        click.echo(f"backfill {backfill_id} is {progress.backfill_status} with {progress.remaining} file(s) not "
                   "final; see the backfill in the UI, or run bulk-import again to relaunch them")  # fmt: skip
        return ExitCode.FAILED
    if progress.failed:
        click.echo(f"{progress.failed} file(s) failed or were cancelled: `extraction-pipeline jobs list --status "
                   "failed`; `jobs retry --all-failed` re-extracts them")  # fmt: skip
        return ExitCode.FAILED
    return ExitCode.OK


def _resume_hint(backfill_id: str) -> str:
    return (
        f"Watch it with `extraction-pipeline bulk-import --watch {backfill_id}` (or `extraction-pipeline jobs stats`)."
    )


def _echo_status(line: str) -> None:
    """A line that rewrites itself on a terminal; elsewhere (logs, CI) each non-empty snapshot on its own line."""
    if sys.stderr.isatty():
        click.echo("\r\033[K" + line, err=True, nl=False)
    elif line:
        click.echo(line, err=True)
