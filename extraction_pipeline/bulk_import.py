"""Bulk import of an existing store: list a prefix, register what is missing in batches, launch one backfill.

``extraction-pipeline bulk-import s3://BUCKET/PREFIX`` calls ``run_import`` and then ``watch_backfill``:

1. the listing is read page by page (any bucket the credentials reach), by a thread that keeps two batches ahead
   (the next pages arrive while a batch is written), and cut into batches of ``batch_size`` supported files
   (``--formats``, ``--since`` narrow it);
2. per batch: one query for the rows, one for the registered partitions (of these keys only), then **one**
   instance call adds the missing partitions and **one** multi-row statement writes the ``pending`` rows (the
   record link and options in the S3 user metadata reach the row with the extraction, from the run's GET).
   Partitions go first: a sensor tick that sees a registered partition without a row leaves it to the import
   (see ``detection``), and a row is never left pointing at a partition Dagster does not know;
3. one backfill (GraphQL ``launchPartitionBackfill`` on the running webserver) covers exactly the files that
   need a run: new, changed (new ETag) or still ``pending`` from an interrupted import and not already
   covered by a backfill or run in flight. Its runs carry ``extraction/reason=bulk-import``, the tag
   ``dagster.yaml`` caps so day-to-day uploads keep run slots.

A second run over the same prefix finds every file registered and its row final (or in flight) and launches
nothing; a run interrupted anywhere leaves batches that are either fully registered or not at all, and the
re-run picks up the rest. ``watch_backfill`` reads progress from the table and the backfill's status.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from extraction_pipeline import settings
from extraction_pipeline.dagster_api import (
    FINISHED_BACKFILL_STATUSES,
    DagsterWebserver,
    backfill_status,
    find_asset_job,
    launch_backfill,
    partitions_of_unfinished_backfills,
)
from extraction_pipeline.defs.detection.registration import Change, change_of, existing_partition_keys
from extraction_pipeline.defs.extraction.partitions import object_for_partition, partition_key_for
from extraction_pipeline.extractors.detect import format_from_extension
from extraction_pipeline.names import (
    ACTIVE_RUN_STATUSES,
    BULK_IMPORT_REASON,
    EXTRACTION_PARTITIONS_NAME,
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
    TAG_REASON,
    TAG_VALUE_MAX,
)
from extraction_pipeline.objects import ObjectVersion
from extraction_pipeline.s3 import list_objects
from extraction_pipeline.store import JobStatus, JobStore, NewObject
from extraction_pipeline.store.models import FINAL_STATUSES

TAG_IMPORT_SOURCE = "extraction/import"
DEFAULT_BATCH_SIZE = settings.DEFAULT_BULK_IMPORT_BATCH
# Listed files kept ahead of the registration, in batches: the next pages are fetched while a batch is written.
_READ_AHEAD_BATCHES = 2


class BulkImportError(Exception):
    """The import cannot go on; the message says why in one line."""


@dataclass(frozen=True)
class ImportSource:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> ImportSource:
        if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
            raise BulkImportError(f"not an s3://BUCKET/PREFIX URL: {url!r}")
        bucket, _, prefix = url[5:].partition("/")
        return cls(bucket, prefix)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass
class FormatCount:
    files: int = 0
    bytes: int = 0


@dataclass
class ImportCounts:
    """What the listing held and what the import did (or, with ``--dry-run``, would do) with it."""

    listed: int = 0
    skipped: int = 0  # unsupported type, another --formats, older than --since
    new: int = 0
    changed: int = 0  # a row exists for an older version (ETag)
    unfinished: int = 0  # pending rows of an interrupted import: launched again unless in flight
    in_flight: int = 0  # pending rows a backfill or run already covers
    unchanged: int = 0  # same ETag, row final (completed, failed or cancelled) or being extracted
    partitions_added: int = 0
    by_format: dict[str, FormatCount] = field(default_factory=dict)  # of the files to import

    @property
    def to_import(self) -> int:
        return self.new + self.changed + self.unfinished


@dataclass
class ImportOutcome:
    counts: ImportCounts
    partition_keys: list[str]  # the backfill's partitions, in registration order
    backfill_id: str | None = None


@dataclass
class _BatchPlan:
    to_write: list[NewObject] = field(default_factory=list)
    to_register: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)


# --- listing -------------------------------------------------------------------------------------------
def listed_files(
    client: Any,
    source: ImportSource,
    *,
    formats: frozenset[str] | None,
    since: datetime | None,
    counts: ImportCounts,
) -> Iterator[tuple[ObjectVersion, str]]:
    """(version, format) of every supported file under the prefix that ``formats``/``since`` keep."""
    for version in list_objects(client, source.bucket, source.prefix):
        counts.listed += 1
        file_format = format_from_extension(version.ref.key)
        if (
            file_format is None
            or (formats is not None and file_format.value not in formats)
            or (since is not None and version.last_modified < since)
        ):
            counts.skipped += 1
            continue
        yield version, file_format.value


_END = object()


def read_ahead(items: Iterable[Any], depth: int) -> Iterator[Any]:
    """``items`` in order, produced by a thread up to ``depth`` ahead: the listing's next pages arrive while the
    previous batch is written (S3's wait and the databases' overlap). An error of the producer is raised here."""
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        """False once the consumer has stopped (the queue may stay full then)."""
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                slots.put(entry, timeout=0.1)
                return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as error:  # handed to the consumer, which raises it
            put((_END, error))

    producer = threading.Thread(target=produce, name="bulk-import-listing", daemon=True)
    producer.start()
    try:
        while True:
            item, error = slots.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()  # the consumer stopped early (an error, Ctrl-C): the producer stops at its next item
        producer.join(timeout=5)


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- one batch -----------------------------------------------------------------------------------------
def plan_batch(
    files: Sequence[tuple[ObjectVersion, str]], *, store: JobStore, instance: Any, counts: ImportCounts
) -> _BatchPlan:
    """Decide per file from its ``Change`` (detection's decision): write its row (new/changed), register its
    partition, or launch it again (pending). Unlike a sensor, the import also writes the row of a partition that
    is registered without one: that is its own interrupted batch (partitions are added before rows)."""
    known = store.known_etags([version.ref.file_url for version, _format in files])
    keys = [partition_key_for(version.ref) for version, _format in files]
    registered = existing_partition_keys(instance, keys)
    plan = _BatchPlan()
    for (version, file_format), key in zip(files, keys, strict=True):
        change = change_of(version, known)
        if key not in registered:
            plan.to_register.append(key)
        if change in (Change.NEW, Change.REUPLOAD):
            counts.new += change is Change.NEW
            counts.changed += change is Change.REUPLOAD
            plan.to_write.append(NewObject(version, key, file_format))
            _count_format(counts, file_format, version.size)
        elif change is Change.PENDING:
            plan.unfinished.append(key)
            _count_format(counts, file_format, version.size)
        else:
            counts.unchanged += 1
    return plan


def _count_format(counts: ImportCounts, file_format: str, size: int) -> None:
    entry = counts.by_format.setdefault(file_format, FormatCount())
    entry.files += 1
    entry.bytes += size


def register_batch(plan: _BatchPlan, *, store: JobStore, instance: Any, max_retries: int) -> None:
    """The partitions (one instance call), then the rows (one statement).

    No HEAD per object: 100,000 of them would cost more than the rest of the registration together. The run
    reads each file's user metadata (record link, options) from the GET it does anyway, and writes the link
    into the row with the result.
    """
    if plan.to_register:
        instance.add_dynamic_partitions(EXTRACTION_PARTITIONS_NAME, plan.to_register)
    store.upsert_pending_batch(plan.to_write, max_retries=max_retries)


# --- what is already on its way ------------------------------------------------------------------------
def partitions_in_flight(instance: Any, webserver: DagsterWebserver | None) -> set[str]:
    """Partitions of the extraction asset that an unfinished backfill (seen through ``webserver``; none without
    one) or a queued/running run will extract."""
    from dagster import DagsterRunStatus, RunsFilter

    keys = partitions_of_unfinished_backfills(webserver) if webserver is not None else set()
    statuses = [DagsterRunStatus(name) for name in ACTIVE_RUN_STATUSES]
    ranges: list[tuple[str, str]] = []
    for run in instance.get_runs(filters=RunsFilter(statuses=statuses)):
        if PARTITION_TAG in run.tags:
            keys.add(run.tags[PARTITION_TAG])
        elif PARTITION_RANGE_START_TAG in run.tags and PARTITION_RANGE_END_TAG in run.tags:
            ranges.append((run.tags[PARTITION_RANGE_START_TAG], run.tags[PARTITION_RANGE_END_TAG]))
    if ranges:  # batch runs (sensor bursts) name a range: resolve it in the partitions' order
        ordered = list(instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME))
        position = {key: index for index, key in enumerate(ordered)}
        for start, end in ranges:
            if start in position and end in position:
                keys.update(ordered[position[start] : position[end] + 1])
    return keys


# --- the import ----------------------------------------------------------------------------------------
def run_import(
    source: ImportSource,
    *,
    client: Any,
    store: JobStore,
    instance: Any,
    webserver: DagsterWebserver | None,
    max_retries: int,
    formats: frozenset[str] | None = None,
    since: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    on_batch: Callable[[ImportCounts], None] = lambda counts: None,
) -> ImportOutcome:
    """List, register in batches and launch one backfill (nothing is written with ``dry_run``)."""
    if batch_size < 1:
        raise BulkImportError(f"--batch-size must be at least 1, got {batch_size}")
    if webserver is not None and not dry_run:
        find_asset_job(webserver)  # unreachable or wrong instance: say so before writing anything
    counts = ImportCounts()
    to_launch: list[str] = []
    unfinished: list[str] = []
    listed = listed_files(client, source, formats=formats, since=since, counts=counts)
    for files in batches(read_ahead(listed, depth=_READ_AHEAD_BATCHES * batch_size), batch_size):
        plan = plan_batch(files, store=store, instance=instance, counts=counts)
        counts.partitions_added += len(plan.to_register)
        if not dry_run:
            register_batch(plan, store=store, instance=instance, max_retries=max_retries)
        to_launch.extend(new.partition_key for new in plan.to_write)
        unfinished.extend(plan.unfinished)
        on_batch(counts)
    if unfinished:
        busy = partitions_in_flight(instance, webserver)
        counts.in_flight = sum(1 for key in unfinished if key in busy)
        counts.unfinished = len(unfinished) - counts.in_flight
        to_launch.extend(key for key in unfinished if key not in busy)
        _uncount_in_flight(counts, [key for key in unfinished if key in busy])
    outcome = ImportOutcome(counts, list(dict.fromkeys(to_launch)))
    if outcome.partition_keys and not dry_run and webserver is not None:
        outcome.backfill_id = launch_import_backfill(webserver, outcome.partition_keys, source)
    return outcome


def _uncount_in_flight(counts: ImportCounts, keys: Sequence[str]) -> None:
    for key in keys:
        file_format = format_from_extension(object_for_partition(key).key)
        entry = counts.by_format.get(file_format.value if file_format else "")
        if entry is not None:
            entry.files -= 1
    counts.by_format = {name: entry for name, entry in counts.by_format.items() if entry.files > 0}


def launch_import_backfill(webserver: DagsterWebserver, partition_keys: list[str], source: ImportSource) -> str:
    """The import's one backfill (an asset backfill: a re-run's in-flight check reads its partitions)."""
    return launch_backfill(
        webserver,
        partition_keys,
        title=f"bulk import of {source.url} ({len(partition_keys)} files)",
        tags={TAG_REASON: BULK_IMPORT_REASON, TAG_IMPORT_SOURCE: source.url[:TAG_VALUE_MAX]},
    )


# --- watching ------------------------------------------------------------------------------------------
@dataclass
class Progress:
    total: int
    completed: int = 0
    failed: int = 0  # failed or cancelled: final, not completed
    backfill_status: str = "REQUESTED"
    files_per_second: float = 0.0

    @property
    def done(self) -> int:
        return self.completed + self.failed

    @property
    def remaining(self) -> int:
        return self.total - self.done

    def eta_seconds(self) -> float | None:
        return self.remaining / self.files_per_second if self.files_per_second > 0 else None


def watch_backfill(
    backfill_id: str,
    *,
    store: JobStore,
    webserver: DagsterWebserver,
    show: Callable[[Progress], None],
    partition_keys: Sequence[str] | None = None,
    poll_seconds: float = 2.0,
    stall_seconds: float = 30.0,
) -> Progress:
    """Poll the rows of the backfill's files and its status until every row is final (or the backfill ended
    and nothing moved for ``stall_seconds``: e.g. it was cancelled). ``show`` gets each snapshot."""
    status = backfill_status(webserver, backfill_id, with_names=partition_keys is None)
    keys = list(partition_keys if partition_keys is not None else status.get("partitionNames") or [])
    open_urls = [object_for_partition(key).file_url for key in dict.fromkeys(keys)]
    progress = Progress(total=len(open_urls), backfill_status=status["status"])
    started, done_at_start, last_change = time.monotonic(), None, time.monotonic()
    while True:
        statuses = store.status_counts(open_urls)
        finals = {url: s for url, s in statuses.items() if s in FINAL_STATUSES}
        progress.completed += sum(1 for s in finals.values() if s is JobStatus.COMPLETED)
        progress.failed += sum(1 for s in finals.values() if s is not JobStatus.COMPLETED)
        open_urls = [url for url in open_urls if url not in finals]
        if done_at_start is None:
            done_at_start = progress.done
        elapsed = time.monotonic() - started
        progress.files_per_second = (progress.done - done_at_start) / elapsed if elapsed > 0 else 0.0
        if finals:
            last_change = time.monotonic()
        show(progress)
        if not open_urls:
            return progress
        if progress.backfill_status in FINISHED_BACKFILL_STATUSES and time.monotonic() - last_change > stall_seconds:
            return progress
        time.sleep(poll_seconds)
        progress.backfill_status = backfill_status(webserver, backfill_id)["status"]


__all__ = [
    "BULK_IMPORT_REASON",
    "BulkImportError",
    "ImportCounts",
    "ImportOutcome",
    "ImportSource",
    "Progress",
    "partitions_in_flight",
    "run_import",
    "watch_backfill",
]
