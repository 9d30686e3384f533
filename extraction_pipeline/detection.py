"""Deciding what is new and registering it — independent of where the object list comes from.

The S3 listing sensor feeds ``ObjectVersion``s from ``list_objects``; an S3-event (SQS) source would feed the
versions named in its notifications. Both go through ``select_new_objects`` (what to do) and
``register_new_objects`` (pending rows + partition and run requests), so there is one code path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from dagster import AddDynamicPartitionsRequest, RunRequest

from extraction_pipeline.errors import ExtractionError
from extraction_pipeline.extractors import FileFormat, choose_extractor
from extraction_pipeline.extractors.detect import format_from_extension
from extraction_pipeline.objects import ObjectVersion
from extraction_pipeline.partitions import extraction_partitions, partition_key_for
from extraction_pipeline.store import JobStatus, JobStore, NewObject

TAG_FORMAT = "extraction/format"
TAG_FILE = "extraction/file"
TAG_REASON = "extraction/reason"
_TAG_VALUE_MAX = 200
_ENRICH_WORKERS = 16


@dataclass
class Selection:
    """What one pass over a list of object versions decided."""

    new: list[NewObject] = field(default_factory=list)  # to register and run, oldest first
    deferred: list[ObjectVersion] = field(default_factory=list)  # over the per-tick cap: next tick
    unchanged: int = 0
    unsupported: int = 0
    reasons: dict[str, str] = field(default_factory=dict)  # partition key → "new" | "re-upload" | "not registered"

    @property
    def oldest_deferred(self) -> datetime | None:
        return min((v.last_modified for v in self.deferred), default=None)


def _reason(version: ObjectVersion, known: tuple[str | None, JobStatus] | None, registered: bool) -> str | None:
    if known is None:
        return "new"
    etag, _status = known
    if etag != version.etag:
        return "re-upload"
    if not registered:
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
) -> Selection:
    """Keep supported files that are new, re-uploaded (new ETag) or registered-but-never-run; cap the batch."""
    selection = Selection()
    supported: list[ObjectVersion] = []
    for version in versions:
        if format_from_extension(version.ref.key) is None:
            selection.unsupported += 1
        else:
            supported.append(version)
    known = store.known_etags([v.ref.file_url for v in supported])  # one batched query
    candidates: list[tuple[ObjectVersion, str, str]] = []
    for version in supported:
        key = partition_key_for(version.ref)
        reason = _reason(version, known.get(version.ref.file_url), key in registered_keys)
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
            TAG_FILE: new.version.ref.filename[:_TAG_VALUE_MAX],
            TAG_REASON: reason,
        },
    )


@dataclass
class Registration:
    partitions_request: AddDynamicPartitionsRequest | None
    run_requests: list[RunRequest]


def register_new_objects(
    selection: Selection,
    *,
    store: JobStore,
    registered_keys: set[str],
    max_retries: int,
    enrich: Callable[[ObjectVersion], ObjectVersion] = lambda v: v,
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
        run_requests=[run_request_for(n, selection.reasons[n.partition_key]) for n in enriched],
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


__all__: Sequence[str] = [
    "Registration",
    "Selection",
    "register_new_objects",
    "registered_partition_keys",
    "run_request_for",
    "select_new_objects",
]
