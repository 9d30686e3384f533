"""Deciding what is new and registering it — independent of where the object list comes from.

The S3 listing sensor feeds ``ObjectVersion``s from ``list_objects``; an S3-event (SQS) source would feed the
versions named in its notifications. Both go through ``select_new_objects`` (what to do) and
``register_new_objects`` (pending rows + partition and run requests), so there is one code path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from dagster import AddDynamicPartitionsRequest, RunRequest, SensorResult

from extraction_pipeline import settings
from extraction_pipeline.defs.extraction.partitions import extraction_partitions, partition_key_for
from extraction_pipeline.errors import ExtractionError
from extraction_pipeline.extractors import FileFormat, choose_extractor
from extraction_pipeline.extractors.detect import format_from_extension
from extraction_pipeline.names import (
    MAX_RUNTIME_TAG,
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    TAG_FILE,
    TAG_FORMAT,
    TAG_REASON,
    TAG_VALUE_MAX,
)
from extraction_pipeline.objects import ObjectVersion
from extraction_pipeline.store import JobStatus, JobStore, NewObject

_ENRICH_WORKERS = 16


@dataclass
class Selection:
    """What one pass over a list of object versions decided."""

    new: list[NewObject] = field(default_factory=list)  # to register and run, oldest first
    deferred: list[ObjectVersion] = field(default_factory=list)  # over the per-tick cap: next tick
    unchanged: int = 0
    unsupported: int = 0
    reasons: dict[str, str] = field(default_factory=dict)  # partition key → "new" | "re-upload" | "not registered"
    registered_keys: set[str] = field(default_factory=set)  # of the candidates, when looked up per tick

    @property
    def oldest_deferred(self) -> datetime | None:
        return min((v.last_modified for v in self.deferred), default=None)


class Change(str, Enum):
    """What an object version is to the table — the one decision every detector and the bulk import start from."""

    NEW = "new"  # no row
    REUPLOAD = "re-upload"  # a row for another version (ETag)
    PENDING = "pending"  # a row for this version, not extracted yet (a run or backfill may be on its way)
    KNOWN = "known"  # a row for this version, being extracted or final


KnownRows = dict[str, tuple[str | None, JobStatus]]  # file_url → (etag, status), from ``JobStore.known_etags``


def change_of(version: ObjectVersion, known: KnownRows) -> Change:
    row = known.get(version.ref.file_url)
    if row is None:
        return Change.NEW
    etag, status = row
    if etag != version.etag:
        return Change.REUPLOAD
    return Change.PENDING if status is JobStatus.PENDING else Change.KNOWN


def _reason(change: Change, registered: bool) -> str | None:
    """Why a sensor registers and runs the file (its run's ``extraction/reason``), or None to leave it."""
    if change is Change.NEW:
        # A registered partition without a row is a bulk import between its two writes (it adds partitions
        # first) or a partition added by hand in the UI: whoever registered it runs it, not this sensor.
        return None if registered else "new"
    if change is Change.REUPLOAD:
        return "re-upload"
    if change is Change.PENDING and not registered:
        # The row was written but the tick died before Dagster applied its requests: ask again. Safe, since
        # the run_key makes Dagster launch at most one run per object version.
        return "not registered"
    return None


def select_new_objects(
    versions: Iterable[ObjectVersion],
    *,
    store: JobStore,
    registered_keys: set[str],
    max_new: int,
    lookup_registered: Callable[[Sequence[str]], set[str]] | None = None,
) -> Selection:
    """Keep supported files that are new, re-uploaded (new ETag) or registered-but-never-run; cap the batch.

    With ``lookup_registered`` the registered partitions are looked up for the candidates only (no row, another
    ETag, or still ``pending``) instead of taken from ``registered_keys``: the cost follows what is new, not the
    100,000 partitions already there. The set looked up is left in ``selection.registered_keys``.
    """
    selection = Selection()
    supported: list[ObjectVersion] = []
    for version in versions:
        if format_from_extension(version.ref.key) is None:
            selection.unsupported += 1
        else:
            supported.append(version)
    known = store.known_etags([v.ref.file_url for v in supported])  # one batched query
    changes = [change_of(version, known) for version in supported]
    if lookup_registered is not None:
        # only where registration decides (_reason): not for files whose row is being extracted or final
        pairs = zip(supported, changes, strict=True)
        needed = [partition_key_for(version.ref) for version, change in pairs if change is not Change.KNOWN]
        registered_keys = lookup_registered(needed)
        selection.registered_keys = registered_keys
    candidates: list[tuple[ObjectVersion, str, str]] = []
    for version, change in zip(supported, changes, strict=True):
        key = partition_key_for(version.ref)
        reason = _reason(change, key in registered_keys)
        if reason is None:
            selection.unchanged += 1
        else:
            candidates.append((version, key, reason))
    candidates.sort(key=lambda c: (c[0].last_modified, c[0].ref.key))
    for version, key, reason in candidates[:max_new]:
        file_format = format_from_extension(version.ref.key)
        selection.new.append(NewObject(version, key, file_format.value if file_format else None))
        selection.reasons[key] = reason
    selection.deferred = [c[0] for c in candidates[max_new:]]
    return selection


def run_request_for(new: NewObject, reason: str) -> RunRequest:
    return RunRequest(
        partition_key=new.partition_key,
        # partition + ETag: one run per object version, however often a tick asks
        run_key=f"{new.partition_key}@{new.version.etag}",
        tags={
            TAG_FORMAT: new.format or "unknown",
            TAG_FILE: new.version.ref.filename[:TAG_VALUE_MAX],
            TAG_REASON: reason,
        },
    )


@dataclass
class Registration:
    """What a tick registered: the partitions to add and the runs to request."""

    partitions_request: AddDynamicPartitionsRequest | None
    run_requests: list[RunRequest]

    def sensor_result(self, *, launch_runs: bool, cursor: str) -> SensorResult:
        """The tick's result: the partitions always; the runs unless the sensor only registers (``launch_runs``
        false: a bulk import's backfill runs them)."""
        return SensorResult(
            run_requests=self.run_requests if launch_runs else [],
            dynamic_partitions_requests=[self.partitions_request] if self.partitions_request else [],
            cursor=cursor,
        )


def register_new_objects(
    selection: Selection,
    *,
    store: JobStore,
    registered_keys: set[str],
    max_retries: int,
    enrich: Callable[[ObjectVersion], ObjectVersion] = lambda v: v,
    batch_threshold: int = settings.DEFAULT_BATCH_THRESHOLD,
    batch_size: int = settings.DEFAULT_BACKFILL_BATCH,
) -> Registration:
    """Write the pending rows, then build the partition and run requests for the selected objects.

    ``enrich`` adds what a listing lacks (S3 user metadata: record link, options) to each selected version only.
    """
    # One HEAD per new object: network-bound, so a tick of hundreds of new files does them concurrently.
    with ThreadPoolExecutor(max_workers=_ENRICH_WORKERS) as pool:
        versions = list(pool.map(enrich, [n.version for n in selection.new]))
    enriched = [
        NewObject(version, new.partition_key, _engine_format(new.format, version))
        for new, version in zip(selection.new, versions, strict=True)
    ]
    store.upsert_pending(enriched, max_retries=max_retries)
    new_keys = _unique(n.partition_key for n in enriched if n.partition_key not in registered_keys)
    return Registration(
        partitions_request=extraction_partitions.build_add_request(new_keys) if new_keys else None,
        run_requests=run_requests_for(
            enriched, selection.reasons, new_keys, batch_threshold=batch_threshold, batch_size=batch_size
        ),
    )


def run_requests_for(
    enriched: Sequence[NewObject],
    reasons: dict[str, str],
    added_keys: Sequence[str],
    *,
    batch_threshold: int,
    batch_size: int,
) -> list[RunRequest]:
    """One run per file, unless a burst arrives: then runs of up to ``batch_size`` files each.

    A run costs a process start, code loading and instance writes (≈2 s here), so a folder of 200 drawings as
    200 runs takes ~100x a bare loop. The keys this tick adds are contiguous in the dynamic partitions (Dagster
    keeps insertion order and adds a tick's keys in one call), so a run covers them as a partition range — what
    a backfill run does. Only keys added by this tick are batched: a re-upload of a registered partition, and
    Werk24 jobs (their own run-tag concurrency cap), keep one run each. One upload alone always gets its own run.
    """
    added = set(added_keys)
    batchable = [n for n in enriched if n.partition_key in added and n.format != "werk24"]
    if len(batchable) <= batch_threshold or batch_size < 2:
        return [run_request_for(n, reasons[n.partition_key]) for n in enriched]
    batched = {n.partition_key for n in batchable}
    singles = [run_request_for(n, reasons[n.partition_key]) for n in enriched if n.partition_key not in batched]
    # batchable keeps the order of added_keys (both follow ``enriched``), so each chunk is a contiguous range
    chunks = balanced_chunks(batchable, batch_size)
    return [
        *(_range_run_request(chunk) if len(chunk) > 1 else run_request_for(chunk[0], "burst") for chunk in chunks),
        *singles,
    ]


def balanced_chunks(items: Sequence[NewObject], most: int) -> list[Sequence[NewObject]]:
    """As few chunks of at most ``most`` items as possible, of even sizes (300 at 250 → 150 + 150, not 250 + 50:
    the runs run side by side and finish together)."""
    count = -(-len(items) // most)
    size = -(-len(items) // count)
    return [items[start : start + size] for start in range(0, len(items), size)]


def _range_run_request(chunk: Sequence[NewObject]) -> RunRequest:
    first, last = chunk[0].partition_key, chunk[-1].partition_key
    versions = hashlib.sha1("\n".join(f"{n.partition_key}@{n.version.etag}" for n in chunk).encode()).hexdigest()
    formats = sorted({n.format or "unknown" for n in chunk})
    return RunRequest(
        # one run per set of object versions, however often a tick asks (as run_request_for's key)
        run_key=f"batch:{first}...{last}@{versions[:16]}",
        tags={
            PARTITION_RANGE_START_TAG: first,
            PARTITION_RANGE_END_TAG: last,
            TAG_FORMAT: formats[0] if len(formats) == 1 else "mixed",
            TAG_FILE: f"{len(chunk)} files: {chunk[0].version.ref.filename} … {chunk[-1].version.ref.filename}"[
                :TAG_VALUE_MAX
            ],
            TAG_REASON: "burst",
            MAX_RUNTIME_TAG: str(settings.batch_max_runtime_seconds(len(chunk))),
        },
    )


def _engine_format(file_format: str | None, version: ObjectVersion) -> str | None:
    """The format that will extract the file: a PDF sent to Werk24 is a ``werk24`` job (own concurrency cap)."""
    if file_format is None:
        return None
    try:
        return choose_extractor(FileFormat(file_format), version.options, filename=version.ref.filename).value
    except ExtractionError:
        return file_format  # misconfigured engine: the run itself fails with the reason


def _unique(keys: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(keys))


def registered_partition_keys(instance: object) -> set[str]:
    """All keys of the extraction partitions, in one query."""
    return set(instance.get_dynamic_partitions(extraction_partitions.name))  # type: ignore[attr-defined]


# --- sources that name their candidates (S3 events, the table inbox): cost follows the new uploads ---------
def existing_partition_keys(instance: object, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` are registered partitions: one query over these keys only, not over the bucket."""
    candidates = _unique(keys)
    if not candidates:
        return set()
    return set(instance.get_existing_dynamic_partitions(extraction_partitions.name, candidates))  # type: ignore[attr-defined]


def register_versions(
    versions: Sequence[ObjectVersion],
    *,
    store: JobStore,
    instance: object,
    max_retries: int,
) -> tuple[Selection, Registration | None]:
    """What an event source hands over (current versions, metadata already read): select, register, request.

    The same ``select_new_objects``/``register_new_objects`` as the listing, with two differences that make a
    redelivered event harmless: only these keys' partitions are looked up, and every file keeps its own run
    (run key partition@ETag), so asking again for a version never launches a second extraction of it.
    """
    registered = existing_partition_keys(instance, (partition_key_for(v.ref) for v in versions))
    selection = select_new_objects(versions, store=store, registered_keys=registered, max_new=len(versions))
    if not selection.new:
        return selection, None
    registration = register_new_objects(
        selection,
        store=store,
        registered_keys=registered,
        max_retries=max_retries,
        batch_threshold=len(selection.new) + 1,
    )
    return selection, registration


def new_object_for(version: ObjectVersion) -> NewObject | None:
    """The registration of one object version (None for an unsupported file type)."""
    file_format = format_from_extension(version.ref.key)
    if file_format is None:
        return None
    return NewObject(version, partition_key_for(version.ref), _engine_format(file_format.value, version))


def registration_for_claimed(claimed: Sequence[NewObject], *, registered_keys: set[str], reason: str) -> Registration:
    """Partition and run requests for rows an app inserted and the pipeline just filled in (the inbox)."""
    new_keys = _unique(n.partition_key for n in claimed if n.partition_key not in registered_keys)
    return Registration(
        partitions_request=extraction_partitions.build_add_request(new_keys) if new_keys else None,
        run_requests=[run_request_for(n, reason) for n in claimed],
    )


__all__: Sequence[str] = [
    "Registration",
    "Selection",
    "existing_partition_keys",
    "new_object_for",
    "register_new_objects",
    "register_versions",
    "registered_partition_keys",
    "registration_for_claimed",
    "run_request_for",
    "run_requests_for",
    "select_new_objects",
]
