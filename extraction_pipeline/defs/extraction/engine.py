"""The run engine: one path for a run over 1 to N partitions of ``file_extraction`` (a lone file is a range of one).

Rows: the engine is the one writer of a run's rows, in every state. A group of files is marked ``processing``
in one UPDATE as it enters the pipeline, completions are written in one transaction per group
(``JobStore.complete``), ``retrying``/``failed``/``cancelled`` per file; every write rides out a short database
outage (``with_db_retries``). Dagster never shows a file done whose row does not say so: the row is written
first, then the file's materialization.

Decisions: after each pass over the files, ``RetrySchedule.verdict`` decides for every file that failed: another
attempt after the plan's backoff (30 s / 2 min / 8 min, at most ``EXTRACTION_MAX_RETRIES``), or failed for good;
a permanent error fails at once. A row cancelled by an operator is left alone.

The pipeline: downloads run in threads ahead of the parsers, which run on a ``SandboxPool`` (one warm child per
core). A thread of its own feeds it, so the parsers keep working while the run writes Dagster's per-file events.
A lone file runs on the calling thread and the process-wide sandbox, so a terminate lands in its parse.

What differs with the count is only how Dagster is told (``LoneFile`` / ``FileRange``):

- a lone file: Dagster retries the step (``RetryRequested``); success is a ``MaterializeResult`` and the
  partition's check results; a failure is an observation on the partition and the step's ``Failure``;
- a range: retries wait in-run, starting when every first attempt is done (the other files are not held up);
  each file's ``AssetMaterialization`` as it completes, its check verdicts on its partition, an observation per
  failed file, and at the end a ``Failure`` naming the failed files, so Dagster shows those partitions failed.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetExecutionContext,
    AssetMaterialization,
    DagsterExecutionInterruptedError,
    Failure,
    MaterializeResult,
    RetryRequested,
)

from extraction_pipeline import settings
from extraction_pipeline.defs.extraction.cancels import (
    CANCELLED_MEANWHILE,
    CancelledMeanwhile,
    cancel_applies_to_run,
    cancelled_rows,
    stop_as_cancelled,
)
from extraction_pipeline.defs.extraction.checks import file_checks, on_partition
from extraction_pipeline.defs.extraction.outcomes import (
    cancelled_observation,
    failure_observation,
    materialization_metadata,
)
from extraction_pipeline.defs.extraction.partitions import object_for_partition, partition_key_for
from extraction_pipeline.defs.extraction.processing import SandboxPool, extract_object
from extraction_pipeline.defs.extraction.retries import RetrySchedule, Verdict
from extraction_pipeline.defs.resources import ExtractionSettings
from extraction_pipeline.errors import ErrorKind, ExtractionError, UnexpectedError
from extraction_pipeline.extractors.detect import format_from_extension
from extraction_pipeline.names import SENSOR_NAME_TAG
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.s3 import head_object
from extraction_pipeline.store import FileExtraction, JobStatus, JobStore, NewObject, StoredJob
from extraction_pipeline.store.models import utcnow
from extraction_pipeline.store.store import with_db_retries

T = TypeVar("T")
Event = AssetMaterialization | MaterializeResult | AssetCheckResult | AssetCheckEvaluation
Outcome = FileExtraction | ExtractionError | CancelledMeanwhile

# Completions are written together once this many are waiting, or this long after the oldest finished.
_FLUSH_FILES = 16
_FLUSH_SECONDS = 1.0
_MESSAGES_IN_FAILURE = 20
# Per sandbox child: files downloading or parsing at once, and files one UPDATE marks `processing`.
_IN_FLIGHT_PER_CHILD = 4
_GROUP_PER_CHILD = 2


def record(write: Callable[[], T]) -> T:
    return with_db_retries(write)


@dataclass(frozen=True)
class RunFile:
    partition_key: str
    ref: ObjectRef
    job_id: str
    options: Mapping[str, Any]


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


class _Report:
    """How a run tells Dagster about its files; ``LoneFile`` and ``FileRange`` differ where Dagster does."""

    def __init__(self, context: AssetExecutionContext) -> None:
        self.context = context
        self.failed: dict[str, tuple[RunFile, ExtractionError, Verdict]] = {}

    def skips(self, row: StoredJob) -> bool:
        """Whether the run leaves this file alone (an operator cancelled it)."""
        raise NotImplementedError

    def completed(self, item: RunFile, extraction: FileExtraction) -> Iterator[Event]:
        raise NotImplementedError

    def retrying(self, items: Sequence[tuple[RunFile, ExtractionError]], delay: float, attempt: int) -> None:
        raise NotImplementedError

    def finish(self) -> Iterator[Event]:
        raise NotImplementedError

    def failed_file(self, item: RunFile, error: ExtractionError, verdict: Verdict) -> None:
        self.context.log_event(
            failure_observation(
                self.context.asset_key,
                item.partition_key,
                error,
                message=verdict.message,
                job_id=item.job_id,
                attempts=verdict.attempts,
            )
        )
        self.failed[item.partition_key] = (item, error, verdict)

    def cancelled_file(self, item: RunFile) -> None:
        self.context.log_event(cancelled_observation(self.context.asset_key, item.partition_key, job_id=item.job_id,
                                                     run_id=self.context.run.run_id))  # fmt: skip


class LoneFile(_Report):
    """A run of one partition: Dagster's step retries, the file's own materialization and checks."""

    def __init__(self, context: AssetExecutionContext, max_retries: int) -> None:
        super().__init__(context)
        self.max_retries = max_retries
        self.cancelled: StoredJob | None = None

    def skips(self, row: StoredJob) -> bool:
        if row.status is JobStatus.CANCELLED and cancel_applies_to_run(self.context, row):
            self.cancelled = row
            return True
        return False

    def completed(self, item: RunFile, extraction: FileExtraction) -> Iterator[Event]:
        self.context.log.info(f"extracted {item.ref.file_url} ({extraction.format}) in {extraction.duration_ms} ms")
        # No value: Dagster records the materialization (with the code version) and calls no IO manager.
        yield MaterializeResult(
            asset_key=self.context.asset_key, metadata=materialization_metadata(extraction, job_id=item.job_id)
        )
        yield from file_checks(extraction.result, file_size=extraction.file_size, file_format=extraction.format)

    def retrying(self, items: Sequence[tuple[RunFile, ExtractionError]], delay: float, attempt: int) -> None:
        [(item, error)] = items
        self.context.log.warning(f"{item.ref.file_url}: {error.message} — retry {attempt + 1} in {delay:.1f} s")
        raise RetryRequested(max_retries=self.max_retries, seconds_to_wait=delay)

    def finish(self) -> Iterator[Event]:
        if self.cancelled is not None:
            raise stop_as_cancelled(self.context, self.cancelled)
        for item, error, verdict in self.failed.values():
            raise Failure(
                description=f"{item.ref.file_url}: {verdict.message}",
                metadata={
                    "file_url": item.ref.file_url,
                    "error_kind": error.kind.value,
                    "error_type": type(error).__name__,
                    "attempts": verdict.attempts,
                },
                allow_retries=False,
            )
        return iter(())


class FileRange(_Report):
    """A run of several partitions: in-run retries, a materialization and its check verdicts per file."""

    def __init__(self, context: AssetExecutionContext, sleep: Callable[[float], None]) -> None:
        super().__init__(context)
        self.sleep = sleep

    def skips(self, row: StoredJob) -> bool:
        return row.status is JobStatus.CANCELLED

    def completed(self, item: RunFile, extraction: FileExtraction) -> Iterator[Event]:
        asset_key = self.context.asset_key
        yield AssetMaterialization(
            asset_key=asset_key,
            partition=item.partition_key,
            metadata=materialization_metadata(extraction, job_id=item.job_id),
        )
        for check in file_checks(extraction.result, file_size=extraction.file_size, file_format=extraction.format):
            yield on_partition(check, asset_key, item.partition_key)

    def retrying(self, items: Sequence[tuple[RunFile, ExtractionError]], delay: float, attempt: int) -> None:
        self.context.log.warning(
            f"{len(items)} file(s) hit a retryable error ({items[0][1].message}); retry {attempt + 1} in {delay:.1f} s"
        )
        self.sleep(delay)

    def finish(self) -> Iterator[Event]:
        if not self.failed:
            return iter(())  # each file's verdicts went out with its materialization: nothing run-wide
        total = len(self.context.partition_keys)
        listed = list(self.failed.values())[:_MESSAGES_IN_FAILURE]
        raise Failure(
            description=f"{len(self.failed)} of {total} files failed: "
            + "; ".join(f"{item.ref.file_url}: {verdict.message}" for item, _error, verdict in listed),
            metadata={
                "failed": len(self.failed),
                "files": total,
                "permanent": sum(1 for _i, e, _v in self.failed.values() if e.kind is ErrorKind.PERMANENT),
            },
            allow_retries=False,
        )


class ExtractionRun:
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
        self.limits = extraction_settings.limits()
        self.schedule: RetrySchedule = extraction_settings.retry_schedule()
        self.keys = list(context.partition_keys)
        self.lone = len(self.keys) == 1
        self.report: _Report = LoneFile(context, self.schedule.max_retries) if self.lone else FileRange(context, sleep)
        self.workers = workers or settings.batch_workers()
        # Files marked `processing` whose outcome is not written yet: what a terminate leaves cancelled.
        self._unfinished: dict[str, RunFile] = {}
        self._unfinished_lock = threading.Lock()

    def events(self) -> Iterator[Event]:
        files = self._files()
        attempt = self.context.retry_number
        try:
            with self._sandboxes(len(files)) as pool:
                while files:
                    retry = yield from self._attempt(files, attempt, pool)
                    files = self._retry_or_fail(retry, attempt)
                    attempt += 1
        except (DagsterExecutionInterruptedError, KeyboardInterrupt) as interrupt:
            # Terminated (`jobs cancel`, the UI's Terminate): the sandbox has killed its children. Dagster would
            # retry an interrupted step under the RetryPolicy; a Failure without retries ends it, and the
            # partitions say "cancelled" instead of looking never run.
            raise self._cancelled() from interrupt
        yield from self.report.finish()

    # --- the files -----------------------------------------------------------------------------------
    def _files(self) -> list[RunFile]:
        refs = {key: object_for_partition(key) for key in self.keys}
        rows = record(lambda: self.store.find_many([ref.file_url for ref in refs.values()]))
        files: list[RunFile] = []
        for key, ref in refs.items():
            row = rows.get(ref.file_url)
            if row is None:  # added by hand in the UI: its row is written now
                row = record(lambda ref=ref: row_for(self.store, self.client, ref, self.settings.max_retries))
            if self.report.skips(row):
                continue
            if row.status is JobStatus.CANCELLED:  # a request made after the cancel: the row is this run's again
                record(lambda row=row: self.store.reset_to_pending(row, run_id=self.context.run.run_id))
            files.append(RunFile(key, ref, row.id, row.options))
        if len(files) < len(refs):
            self.context.log.info(f"{len(refs) - len(files)} cancelled file(s) left alone")
        return self._claimed(files)

    def _claimed(self, files: list[RunFile]) -> list[RunFile]:
        """A sensor's run keeps only the files no other run has taken.

        Dagster's run-key check is a read before the run is created, not a constraint: two daemons evaluating
        the same tick (a rolling deploy) can both create the run. The second one's files are held by the first
        (the row's ``dagster_run_id``), so it extracts nothing and succeeds. Operator runs (UI, ``jobs retry``,
        backfills) re-extract on purpose and are not held back.
        """
        run = self.context.run
        if SENSOR_NAME_TAG not in run.tags or not files:
            return files
        lineage = [r for r in (run.parent_run_id, run.root_run_id) if r]
        urls = [f.ref.file_url for f in files]
        claimed = record(lambda: self.store.claim_for_run(urls, run_id=run.run_id, lineage=lineage))
        taken = [f for f in files if f.ref.file_url not in claimed]
        if taken:
            self.context.log.warning(
                f"{len(taken)} file(s) left alone: another run of the same request already has them (a second "
                f"daemon launched it too): {', '.join(f.ref.file_url for f in taken[:5])}"
            )
        return [f for f in files if f.ref.file_url in claimed]

    def _sandboxes(self, files: int) -> AbstractContextManager[SandboxPool | None]:
        if self.lone or not files:
            return nullcontext(None)  # a lone file parses on the process-wide sandbox, warm across runs
        return SandboxPool(self.limits, min(self.workers, files))

    # --- one pass over the files ----------------------------------------------------------------------
    def _attempt(
        self, files: list[RunFile], attempt: int, pool: SandboxPool | None
    ) -> Generator[Event, None, list[tuple[RunFile, ExtractionError]]]:
        """Extract ``files`` once; yield each completion's events; return the files that may be retried."""
        retry: list[tuple[RunFile, ExtractionError]] = []
        finished: list[tuple[RunFile, FileExtraction]] = []
        oldest = 0.0
        outcomes = self._outcomes_in_threads(files, attempt, pool) if pool else self._outcomes_here(files, attempt)
        with closing(outcomes):
            for item, outcome in outcomes:
                if isinstance(outcome, FileExtraction) and item is not None:
                    if not finished:
                        oldest = time.monotonic()
                    finished.append((item, outcome))
                elif isinstance(outcome, CancelledMeanwhile) and item is not None:
                    self._cancelled_meanwhile(item)
                elif isinstance(outcome, ExtractionError) and item is not None:
                    if outcome.retryable:
                        retry.append((item, outcome))
                    else:
                        self._fail(item, outcome, self.schedule.verdict(outcome, attempt))
                if finished and (len(finished) >= _FLUSH_FILES or time.monotonic() - oldest >= _FLUSH_SECONDS):
                    yield from self._complete(finished)
                    finished = []
        if finished:
            yield from self._complete(finished)
        return retry

    def _outcomes_here(self, files: list[RunFile], attempt: int) -> Iterator[tuple[RunFile | None, Outcome | None]]:
        for item in files:
            started = self._start([item], attempt)
            yield item, (self._extract(item, None) if started else CANCELLED_MEANWHILE)

    def _outcomes_in_threads(
        self, files: list[RunFile], attempt: int, pool: SandboxPool
    ) -> Iterator[tuple[RunFile | None, Outcome | None]]:
        """Each file's outcome as it finishes, and ``(None, None)`` every ``_FLUSH_SECONDS`` without one.

        A feeder thread marks groups ``processing`` and hands them to download threads, which parse on ``pool``.
        A file holds its slot until its outcome is taken here, so at most the slots' worth of results wait.
        """
        in_flight, group_size = _IN_FLIGHT_PER_CHILD * pool.size, _GROUP_PER_CHILD * pool.size
        slots = threading.Semaphore(in_flight + _FLUSH_FILES)
        results: queue.Queue[tuple[RunFile | None, Outcome | BaseException]] = queue.Queue()
        stop = threading.Event()

        def extract(item: RunFile) -> None:
            results.put((item, self._extract(item, pool)))

        def feed(threads: ThreadPoolExecutor) -> None:
            todo = deque(files)
            try:
                while todo and not stop.is_set():
                    group = [todo.popleft() for _ in range(min(group_size, len(todo)))]
                    for _ in group:
                        while not slots.acquire(timeout=_FLUSH_SECONDS):
                            if stop.is_set():
                                return
                    started = self._start(group, attempt)
                    for item in group:
                        if item in started:
                            threads.submit(extract, item)
                        else:
                            results.put((item, CANCELLED_MEANWHILE))
            except BaseException as error:  # a row write that outlasted its retries fails the step with it
                results.put((None, error))

        with ThreadPoolExecutor(in_flight, thread_name_prefix="run-file") as threads:
            feeder = threading.Thread(target=feed, args=(threads,), name="run-feeder", daemon=True)
            feeder.start()
            try:
                for _ in files:
                    item, outcome = self._next_result(results)
                    while item is None and outcome is None:
                        yield None, None
                        item, outcome = self._next_result(results)
                    if item is None:  # the feeder failed
                        raise outcome  # type: ignore[misc]
                    slots.release()
                    yield item, outcome  # type: ignore[misc]
            finally:
                stop.set()
                feeder.join()

    @staticmethod
    def _next_result(
        results: queue.Queue[tuple[RunFile | None, Outcome | BaseException]],
    ) -> tuple[RunFile | None, Outcome | BaseException | None]:
        try:
            return results.get(timeout=_FLUSH_SECONDS)
        except queue.Empty:
            return None, None

    def _extract(self, item: RunFile, pool: SandboxPool | None) -> Outcome:
        try:
            return extract_object(self.client, item.ref, options=item.options, limits=self.limits,
                                  sandbox=pool)  # type: ignore[arg-type]  # fmt: skip
        except ExtractionError as error:
            return error
        except Exception as error:
            return UnexpectedError(f"{type(error).__name__}: {error}")

    # --- the rows ------------------------------------------------------------------------------------
    def _start(self, group: Sequence[RunFile], attempt: int) -> list[RunFile]:
        """Mark ``group`` processing; returns the files started (not those an operator cancelled meanwhile)."""
        run_id = self.context.run.run_id
        marked = record(lambda: self.store.mark_processing_batch([f.ref for f in group], run_id=run_id,
                                                                 attempt=attempt))  # fmt: skip
        cancelled = cancelled_rows(self.store, group) if marked < len(group) else {}
        started = [item for item in group if item.partition_key not in cancelled]
        with self._unfinished_lock:
            self._unfinished.update((item.partition_key, item) for item in started)
        return started

    def _cancelled_meanwhile(self, item: RunFile, *, before_start: bool = True) -> None:
        if self.lone:
            raise stop_as_cancelled(self.context, self.store.get(item.ref.file_url), before_start=before_start)
        self.report.cancelled_file(item)

    def _finished(self, item: RunFile) -> None:
        with self._unfinished_lock:
            self._unfinished.pop(item.partition_key, None)

    def _complete(self, finished: list[tuple[RunFile, FileExtraction]]) -> Iterator[Event]:
        written = record(lambda: self.store.complete([extraction for _item, extraction in finished]))
        # A row the store left alone may have been cancelled while its file was extracted: the cancel stands.
        cancelled = cancelled_rows(self.store, [item for item, _ in finished]) if written < len(finished) else {}
        for item, extraction in finished:
            self._finished(item)
            if item.partition_key not in cancelled:
                yield from self.report.completed(item, extraction)
            else:
                self._cancelled_meanwhile(item, before_start=False)

    def _fail(self, item: RunFile, error: ExtractionError, verdict: Verdict) -> None:
        row = record(lambda: self.store.mark_failed(item.ref, message=verdict.message, kind=error.kind,
                                                    attempts=verdict.attempts - 1))  # fmt: skip
        self._finished(item)
        if row.status is JobStatus.CANCELLED:
            self._cancelled_meanwhile(item)
        else:
            self.report.failed_file(item, error, verdict)

    def _retry_or_fail(self, retry: list[tuple[RunFile, ExtractionError]], attempt: int) -> list[RunFile]:
        """Fail the files whose retries are spent; mark the others ``retrying`` and wait for them (or let Dagster)."""
        verdicts = [(item, error, self.schedule.verdict(error, attempt)) for item, error in retry]
        again = [(item, error, verdict) for item, error, verdict in verdicts if not verdict.gave_up]
        for item, error, verdict in verdicts:
            if verdict.gave_up:
                self._fail(item, error, verdict)
        if not again:
            return []
        delay = max(verdict.retry_in or 0.0 for _item, _error, verdict in again)
        next_retry_at = self.schedule.next_retry_at(utcnow(), delay)
        for item, error, _verdict in again:
            record(lambda item=item, error=error: self.store.mark_retrying(
                item.ref, error=error, retry_count=attempt + 1, next_retry_at=next_retry_at))  # fmt: skip
            self._finished(item)
        self.report.retrying([(item, error) for item, error, _verdict in again], delay, attempt)
        return [item for item, _error, _verdict in again]

    def _cancelled(self) -> Failure:
        """The rows of the files cut off (unless `jobs cancel` already did) and their partitions say cancelled."""
        with self._unfinished_lock:
            cut_off = [self._unfinished[key] for key in sorted(self._unfinished)]
        for item in cut_off:
            if self.store.get(item.ref.file_url).status is JobStatus.PROCESSING:
                self.store.mark_cancelled(item.ref)
            self.report.cancelled_file(item)
        if self.lone and cut_off:
            return Failure(description=f"{cut_off[0].ref.file_url}: cancelled while extracting", allow_retries=False)
        return Failure(description=f"run terminated: {len(cut_off)} file(s) cancelled while extracting",
                       allow_retries=False)  # fmt: skip
