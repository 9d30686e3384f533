"""``extraction-pipeline bulk-import``: a thin command over ``extraction_pipeline.bulk_import``."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

from extraction_pipeline import settings
from extraction_pipeline.cli.connections import open_store, s3_client
from extraction_pipeline.cli.errors import CliError, ExitCode

if TYPE_CHECKING:
    from extraction_pipeline.bulk_import import ImportCounts, Progress

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
    from extraction_pipeline.dagster_api import DagsterWebserver, backfill_url

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
        on_batch=lambda counts: _listing_status(f"listed {counts.listed}, {counts.to_import} to import …"),
    )
    _listing_status(None)
    for line in describe_counts(outcome.counts, dry_run=dry_run):
        click.echo(line)
    if dry_run:
        return
    if outcome.backfill_id is None:
        click.echo("nothing to import: every file is registered and its row is final or in flight")
        return
    click.echo(f"launched backfill {outcome.backfill_id} ({len(outcome.partition_keys)} files): "
               f"{backfill_url(webserver, outcome.backfill_id)}")  # fmt: skip
    if no_wait:
        click.echo(_resume_hint(outcome.backfill_id))
        return
    sys.exit(_watch(bulk, outcome.backfill_id, webserver=webserver, partition_keys=outcome.partition_keys))


def _watch(bulk: Any, backfill_id: str, *, webserver: Any, partition_keys: list[str] | None) -> int:
    """Watch until every row is final; Ctrl-C stops watching only. Exit 1 when a file failed."""
    display = _ProgressDisplay()
    try:
        progress = bulk.watch_backfill(
            backfill_id,
            store=open_store(),
            webserver=webserver,
            partition_keys=partition_keys,
            show=display.show,
        )
    except KeyboardInterrupt:
        display.close()
        click.echo("stopped watching; the import goes on in Dagster. " + _resume_hint(backfill_id))
        return ExitCode.INTERRUPTED
    display.close()
    click.echo(progress_line(progress))
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


def _listing_status(line: str | None) -> None:
    """How far the listing got: one line rewritten in place on a terminal, a line per batch elsewhere."""
    if not sys.stderr.isatty():
        if line:
            click.echo(line, err=True)
    elif line is None:
        click.echo(err=True)
    else:
        click.echo("\r" + line, err=True, nl=False)


class _ProgressDisplay:
    """The import's progress: ``click.progressbar`` on a terminal, a plain line per change elsewhere (logs, CI)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._last = ""

    def show(self, progress: Progress) -> None:
        if not sys.stderr.isatty():
            line = progress_line(progress)
            if line != self._last:
                click.echo(line, err=True)
                self._last = line
            return
        if self._bar is None:
            self._bar = click.progressbar(
                length=max(progress.total, 1),
                label="importing",
                file=sys.stderr,
                show_eta=True,
                item_show_func=lambda snapshot: _details(snapshot) if snapshot is not None else None,
            )
            self._bar.__enter__()
        self._bar.update(progress.done - self._bar.pos, progress)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def progress_line(progress: Progress) -> str:
    """``412/1000 done  3 failed  585 left  27.1 files/s  ETA 0:00:21  backfill REQUESTED``."""
    eta = progress.eta_seconds()
    eta_text = time.strftime("%H:%M:%S", time.gmtime(eta)) if eta is not None else "--:--:--"
    return f"{progress.completed}/{progress.total} done  {_details(progress)}  ETA {eta_text}"


def _details(progress: Progress) -> str:
    return (
        f"{progress.failed} failed  {progress.remaining} left  {progress.files_per_second:.1f} files/s  "
        f"backfill {progress.backfill_status}"
    )


def describe_counts(counts: ImportCounts, *, dry_run: bool) -> list[str]:
    """The summary lines: what was listed and what is (or would be) imported, by format and size."""
    verb = "would import" if dry_run else "importing"
    total_bytes = sum(entry.bytes for entry in counts.by_format.values())
    lines = [
        f"listed {counts.listed} object(s): {counts.to_import} to import, {counts.unchanged} unchanged, "
        f"{counts.in_flight} already in flight, {counts.skipped} skipped (type, --formats or --since)",
        f"{verb} {counts.to_import} file(s), {_size(total_bytes)}: {counts.new} new, {counts.changed} changed "
        f"(new ETag), {counts.unfinished} left pending by an earlier import",
    ]
    for name, entry in sorted(counts.by_format.items()):
        lines.append(f"  {name:<6} {entry.files:>8} file(s) {_size(entry.bytes):>12}")
    return lines


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    scaled, unit = float(size), "bytes"
    for unit in ("KiB", "MiB", "GiB"):  # noqa: B007  # the last unit reached is the one printed
        scaled /= 1024
        if scaled < 1024:
            break
    return f"{scaled:.1f} {unit}"
