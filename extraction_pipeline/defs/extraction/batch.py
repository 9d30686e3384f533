"""A backfill run over many partitions (bulk import, re-extraction): each file its own outcome, at loop speed.

Where a batch's time went before, and what this module does about it:

- one S3 client for the whole run (the asset passes it in) and one warm sandbox child per core
  (``SandboxPool``, ``EXTRACTION_BATCH_WORKERS``, default the usable cores), so parsing uses every core;
- downloads run in threads ahead of the parsers (up to ``4 × workers`` files in flight), so the network
  wait overlaps with parsing;
- the table is written per group, not per file: one UPDATE marks a group ``processing`` as it enters the
  pipeline, one transaction records a group of completions; Dagster gets exactly one event per successful
  file (its ``AssetMaterialization``) plus one summary per asset check per run, and no per-file log lines.

Per-file guarantees are those of a single-file run: every file gets its own row outcome and its own
materialization; a permanent error fails the file once; a retryable one (S3 throttling in a 100,000-file
import, a database blip) marks the row ``retrying`` with ``next_retry_at`` and the file is re-queued in this
run after the plan's backoff (30 s / 2 min / 8 min, at most ``EXTRACTION_MAX_RETRIES``) — the other files
are not held up, since the waiting starts when every first attempt is done. A row cancelled by an operator
is left alone. The run fails at the end if any file failed, naming them, so Dagster shows those partitions
failed and the others materialized.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetMaterialization, Failure

from extraction_pipeline import settings
from extraction_pipeline.defs.extraction.checks import drawing_has_text_layer, result_matches_schema, summarize_checks
from extraction_pipeline.defs.extraction.partitions import object_for_partition, partition_key_for
from extraction_pipeline.defs.extraction.processing import FileExtraction, extract_object
from extraction_pipeline.defs.extraction.retries import RetrySchedule
from extraction_pipeline.defs.resources import ExtractionSettings
from extraction_pipeline.errors import ErrorKind, ExtractionError, UnexpectedError
from extraction_pipeline.extractors.detect import format_from_extension
from extraction_pipeline.extractors.sandbox import ExtractionLimits, Sandbox
from extraction_pipeline.extractors.schema import ExtractionResult, FileFormat, SourceInfo
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.s3 import head_object
from extraction_pipeline.store import JobStatus, JobStore, NewObject, StoredJob
from extraction_pipeline.store.models import utcnow
from extraction_pipeline.store.rows import Completion
from extraction_pipeline.store.store import with_db_retries

# Writes of the row ride out short database outages before the file itself is retried.
DB_ATTEMPTS = 4
DB_DELAY_SECONDS = 0.5
# Completions are written together once this many are waiting, or this long after the oldest finished.
_FLUSH_FILES = 16
_FLUSH_SECONDS = 1.0
_MESSAGES_IN_FAILURE = 20
_IN_FLIGHT_PER_CHILD = 4
_GROUP_PER_CHILD = 2


def record(write: Callable[[], Any]) -> Any:
    return with_db_retries(write, attempts=DB_ATTEMPTS, delay_seconds=DB_DELAY_SECONDS)


def row_for(store: JobStore, client: Any, ref: ObjectRef, max_retries: int) -> StoredJob:
    """The object's row; a partition added by hand in the UI (no sensor) gets its pending row here."""
    row = store.find(ref)
    if row is not None:
        return row
    version = head_object(client, ref)
    file_format = format_from_extension(ref.key)
    new = NewObject(version, partition_key_for(ref), file_format.value if file_format else None)
    store.upsert_pending([new], max_retries=max_retries)
    return store.get(ref.file_url)


class SandboxPool:
    """``size`` warm sandbox children; ``run`` borrows a free one, so ``size`` files are parsed at once.

    It has the ``limits`` and ``run`` of a ``Sandbox``, so ``extract_object``/``extract_file`` take it as theirs:
    a thread downloads its file first and borrows a child only to parse it.
    """

    def __init__(self, limits: ExtractionLimits, size: int, *, isolated: bool | None = None) -> None:
        self.limits = limits
        self._all = [Sandbox(limits, isolated=isolated) for _ in range(max(1, size))]
        self._free: queue.Queue[Sandbox] = queue.Queue()
        for sandbox in self._all:
            self._free.put(sandbox)
        # The children start (≈1 s each: a Python process) while the batch reads its rows and downloads.
        self._warming = [threading.Thread(target=sandbox.warm, daemon=True) for sandbox in self._all]
        for thread in self._warming:
            thread.start()

    @property
    def size(self) -> int:
        return len(self._all)

    def run(
        self,
        file_format: FileFormat,
        path: Path,
        source: SourceInfo,
        options: Mapping[str, Any],
        *,
        timeout_seconds: float | None = None,
    ) -> ExtractionResult:
        sandbox = self._free.get()
        try:
            return sandbox.run(file_format, path, source, options, timeout_seconds=timeout_seconds)
        finally:
            self._free.put(sandbox)

    def close(self) -> None:
        for thread in self._warming:
            thread.join()
        for sandbox in self._all:
            sandbox.close()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass(frozen=True)
class BatchFile:
    partition_key: str
    ref: ObjectRef
    options: Mapping[str, Any]


@dataclass
class _Attempt:
    """One pass over some files of the batch: what failed for good, what to retry. (Completed files are not kept:
    their results are in their rows, and a run of 250 large drawings would hold them all in memory.)"""

    failed: dict[str, tuple[BatchFile, ExtractionError]] = field(default_factory=dict)
    retry: list[tuple[BatchFile, ExtractionError]] = field(default_factory=list)


class BatchExtraction:
    """Extract the partitions of one run; ``events()`` yields what Dagster records, as files finish."""

    def __init__(
        self,
        context: AssetExecutionContext,
        client: Any,
        store: JobStore,
        extraction_settings: ExtractionSettings,
        *,
        workers: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.context = context
        self.client = client
        self.store = store
        self.settings = extraction_settings
        self.schedule: RetrySchedule = extraction_settings.retry_schedule()
        self.workers = workers or settings.batch_workers()
        self.sleep = sleep
        self.failed: dict[str, tuple[BatchFile, ExtractionError]] = {}
        self.checks: list[AssetCheckResult] = []

    def events(self) -> Iterator[AssetMaterialization | AssetCheckResult]:
        files, cancelled = self._files()
        if cancelled:
            self.context.log.info(f"{cancelled} cancelled file(s) left alone")
        with SandboxPool(self.settings.limits(), self.workers) as pool:
            attempt = 0
            while files:
                outcome = _Attempt()
                yield from self._attempt(files, attempt, pool, outcome)
                self.failed.update(outcome.failed)
                files = self._schedule_retries(outcome.retry, attempt)
                attempt += 1
        yield from summarize_checks(self.checks)
        if self.failed:
            raise self._failure()

    # --- the files -----------------------------------------------------------------------------------
    def _files(self) -> tuple[list[BatchFile], int]:
        keys = list(self.context.partition_keys)
        refs = {key: object_for_partition(key) for key in keys}
        rows = record(lambda: self.store.find_many([ref.file_url for ref in refs.values()]))
        files: list[BatchFile] = []
        cancelled = 0
        for key in keys:
            ref = refs[key]
            row = rows.get(ref.file_url)
            if row is None:  # added by hand in the UI: its row is written when its turn comes
                row = record(lambda ref=ref: row_for(self.store, self.client, ref, self.settings.max_retries))
            if row.status is JobStatus.CANCELLED:
                cancelled += 1
                continue
            files.append(BatchFile(key, ref, row.options))
        return files, cancelled

    # --- one pass --------------------------------------------------------------------------------------
    def _attempt(
        self, files: list[BatchFile], attempt: int, pool: SandboxPool, outcome: _Attempt
    ) -> Iterator[AssetMaterialization | AssetCheckResult]:
        todo = deque(files)
        in_flight: dict[Future[FileExtraction], BatchFile] = {}
        waiting: list[tuple[BatchFile, FileExtraction]] = []
        oldest_waiting = 0.0
        limits = pool.limits
        # Files enter in groups of 2 x the children (one UPDATE marks a group processing) while up to 4 x are
        # in flight: downloads run ahead of the parsers without a temp file per file of the batch.
        max_in_flight, group_size = _IN_FLIGHT_PER_CHILD * pool.size, _GROUP_PER_CHILD * pool.size
        with ThreadPoolExecutor(max_in_flight, thread_name_prefix="batch-file") as threads:
            while todo or in_flight:
                if todo and len(in_flight) <= max_in_flight - min(group_size, len(todo)):
                    group = [todo.popleft() for _ in range(min(max_in_flight - len(in_flight), len(todo)))]
                    self._start(group, attempt)
                    for item in group:
                        future = threads.submit(extract_object, self.client, item.ref, options=item.options,
                                                limits=limits, sandbox=pool)  # type: ignore[arg-type]  # fmt: skip
                        in_flight[future] = item
                done, _ = wait(in_flight, timeout=_FLUSH_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    item = in_flight.pop(future)
                    error = _error_of(future)
                    if error is None:
                        if not waiting:
                            oldest_waiting = time.monotonic()
                        waiting.append((item, future.result()))
                    elif error.retryable:
                        outcome.retry.append((item, error))
                    else:
                        self._fail(item, error, attempt, outcome)
                if waiting and (
                    len(waiting) >= _FLUSH_FILES
                    or time.monotonic() - oldest_waiting >= _FLUSH_SECONDS
                    or not (todo or in_flight)
                ):
                    yield from self._complete(waiting)
                    waiting = []

    def _start(self, group: Sequence[BatchFile], attempt: int) -> None:
        run_id = self.context.run.run_id
        record(lambda: self.store.mark_processing_batch([f.ref for f in group], run_id=run_id, attempt=attempt))

    def _complete(self, finished: list[tuple[BatchFile, FileExtraction]]) -> Iterator[AssetMaterialization]:
        """The rows first (one transaction), then each file's materialization: Dagster never shows a file done
        whose row does not say so."""
        from extraction_pipeline.defs.extraction.assets import (
            materialization_metadata,  # the asset module imports this one
        )

        record(lambda: self.store.complete_batch([_completion(extraction) for _item, extraction in finished]))
        for item, extraction in finished:
            self.checks.append(
                result_matches_schema(extraction.result, file_size=extraction.file_size, file_format=extraction.format)
            )
            self.checks.append(drawing_has_text_layer(extraction.result))
            yield AssetMaterialization(
                asset_key=self.context.asset_key,
                partition=item.partition_key,
                metadata=materialization_metadata(extraction),
            )

    def _fail(self, item: BatchFile, error: ExtractionError, attempt: int, outcome: _Attempt) -> None:
        message = error.message
        if error.retryable:
            message = f"{error.message} (gave up after {attempt + 1} attempts)"
        record(lambda: self.store.mark_failed(item.ref, message=message, kind=error.kind, attempts=attempt))
        self.context.log.error(f"{item.ref.file_url}: {message}")
        outcome.failed[item.partition_key] = (item, type(error)(message))

    # --- retries ---------------------------------------------------------------------------------------
    def _schedule_retries(self, retry: list[tuple[BatchFile, ExtractionError]], attempt: int) -> list[BatchFile]:
        """Mark retryable files ``retrying`` until their backoff is over, wait it, hand them back; or fail them."""
        if not retry:
            return []
        if not self.schedule.should_retry(attempt):
            gave_up = _Attempt()
            for item, error in retry:
                self._fail(item, error, attempt, gave_up)
            self.failed.update(gave_up.failed)
            return []
        delay = self.schedule.delay(attempt)
        next_retry_at = self.schedule.next_retry_at(utcnow(), delay)
        for item, error in retry:
            record(
                lambda item=item, error=error: self.store.mark_retrying(
                    item.ref, error=error, retry_count=attempt + 1, next_retry_at=next_retry_at
                )
            )
        self.context.log.warning(
            f"{len(retry)} file(s) hit a retryable error ({retry[0][1].message}); "
            f"retry {attempt + 1} of {self.schedule.max_retries} in {delay:.1f} s"
        )
        self.sleep(delay)
        return [item for item, _error in retry]

    def _failure(self) -> Failure:
        total = len(self.context.partition_keys)
        listed = list(self.failed.values())[:_MESSAGES_IN_FAILURE]
        return Failure(
            description=f"{len(self.failed)} of {total} files failed: "
            + "; ".join(f"{item.ref.file_url}: {error.message}" for item, error in listed),
            metadata={
                "failed": len(self.failed),
                "files": total,
                "permanent": sum(1 for _i, e in self.failed.values() if e.kind is ErrorKind.PERMANENT),
            },
            allow_retries=False,
        )


def _error_of(future: Future[FileExtraction]) -> ExtractionError | None:
    error = future.exception()
    if error is None or isinstance(error, ExtractionError):
        return error
    return UnexpectedError(f"{type(error).__name__}: {error}")


def _completion(extraction: FileExtraction) -> Completion:
    return Completion(
        file_url=extraction.file_url,
        etag=extraction.etag,
        file_size=extraction.file_size,
        format=extraction.format,
        extractor_version=extraction.extractor_version,
        duration_ms=extraction.duration_ms,
        result=extraction.result,
        record_id=extraction.record_link.record_id,
        field_id=extraction.record_link.field_id,
        attachment_id=extraction.record_link.attachment_id,
    )


def extract_batch(
    context: AssetExecutionContext, client: Any, store: JobStore, extraction_settings: ExtractionSettings
) -> Iterator[AssetMaterialization | AssetCheckResult]:
    """The asset's body for a run over several partitions (see the module docstring)."""
    yield from BatchExtraction(context, client, store, extraction_settings).events()
