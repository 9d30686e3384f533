"""The table as the inbox: an app inserts a ``pending`` row, the next tick registers and runs it.

PyBase (or any app, or ``extraction-pipeline submit``) inserts an ``extraction_jobs`` row with ``id`` (a UUID
string), ``file_url`` (``s3://bucket/key``) and ``status = 'pending'`` — optionally ``record_id``, ``field_id``,
``attachment_id`` and ``options`` — when it stores an attachment. Every other column has a default (migration
0002); ``registered_at`` stays NULL until the pipeline has registered the file, so a tick finds its work with one
query over the partial index ``ix_extraction_jobs_inbox``, without listing the bucket. Works in every detection
mode, next to the listing or the SQS sensor.

A tick HEADs each new row's object, fills in what the app did not know (name, size, ETag, format, partition key,
S3 user metadata under the app's own link and options) and returns the partition and run requests through
``detection`` — one run per file, key partition@ETag. ``registered_at`` is set only on the *next* tick, for the
rows whose partitions Dagster then has: a tick whose result was never applied leaves its rows in the inbox, and
asking again for the same run key launches nothing twice.

An object that is not in the bucket yet is waited for (an app may insert the row before the upload finishes) for
``EXTRACTION_STUCK_AFTER_SECONDS``; then, like a URL that names no S3 object or an unsupported file type, the row
is ``failed`` (permanent) with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dagster import (
    DefaultSensorStatus,
    Definitions,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    definitions,
    sensor,
)

from extraction_pipeline import settings
from extraction_pipeline.defs.detection.registration import (
    Registration,
    existing_partition_keys,
    new_object_for,
    registration_for_claimed,
)
from extraction_pipeline.defs.extraction.jobs import extract_files
from extraction_pipeline.defs.resources import ExtractionSettings, JobStoreResource, S3ClientResource
from extraction_pipeline.errors import ErrorKind, ExtractionError, ObjectNotFoundError, PermanentError
from extraction_pipeline.extractors.detect import SUPPORTED_EXTENSIONS, format_from_extension
from extraction_pipeline.objects import ObjectRef, RecordLink
from extraction_pipeline.s3 import head_object
from extraction_pipeline.store import JobStore, NewObject, StoredJob
from extraction_pipeline.store.models import utcnow

SENSOR_NAME = "extraction_inbox_sensor"
REASON = "inbox"
_HEAD_WORKERS = 16


class UnsupportedFileError(PermanentError):
    """The file_url names an object the pipeline has no extractor for (by its extension)."""


# --- submitting (the CLI; an app does the same INSERT) ---------------------------------------------------
def submit_file(
    store: JobStore, file_url: str, *, link: RecordLink | None = None, options: dict[str, Any] | None = None
) -> str:
    """Put ``file_url`` in the inbox exactly as an app does; returns the row id. Bad input is a typed error."""
    return submit_or_merge(store, file_url, link=link, options=options)[0]


def submit_or_merge(
    store: JobStore, file_url: str, *, link: RecordLink | None = None, options: dict[str, Any] | None = None
) -> tuple[str, bool]:
    """``submit_file``, also saying whether the row is new (True) or an existing row took the link and options."""
    _supported_ref(file_url)
    return store.submit_or_merge(file_url, link=link, options=options)


def _supported_ref(file_url: str) -> ObjectRef:
    try:
        ref = ObjectRef.from_file_url(file_url)
    except ValueError as error:
        raise PermanentError(f"{file_url!r} does not name an S3 object (expected s3://bucket/key)") from error
    if format_from_extension(ref.key) is None:
        raise UnsupportedFileError(
            f"{ref.filename}: not a supported file type (supported extensions: {', '.join(SUPPORTED_EXTENSIONS)})"
        )
    return ref


# --- one tick --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InboxCursor:
    """(row id, partition key) of the rows the previous tick claimed: confirm those Dagster now has."""

    claimed: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, raw: str | None) -> InboxCursor:
        return cls(tuple((i, k) for i, k in json.loads(raw).get("claimed", ()))) if raw else cls()

    def serialize(self) -> str:
        return json.dumps({"claimed": [list(pair) for pair in self.claimed]})


@dataclass
class InboxTick:
    claimed: list[tuple[str, NewObject]] = field(default_factory=list)  # (row id, registration)
    rejected: dict[str, str] = field(default_factory=dict)  # row id → reason
    waiting: list[str] = field(default_factory=list)  # row ids whose object is not (yet) readable
    confirmed: int = 0

    @property
    def cursor(self) -> InboxCursor:
        return InboxCursor(tuple((job_id, new.partition_key) for job_id, new in self.claimed))


def confirm_claims(store: JobStore, instance: object, cursor: InboxCursor) -> int:
    """Rows of the previous tick whose partitions exist are registered now (they leave the inbox)."""
    existing = existing_partition_keys(instance, (key for _, key in cursor.claimed))
    return store.confirm_registered([job_id for job_id, key in cursor.claimed if key in existing])


def claim_rows(
    store: JobStore, s3_client: Any, rows: Sequence[StoredJob], *, wait_seconds: float, now: datetime
) -> InboxTick:
    """HEAD each row's object (concurrently) and fill the row in, or reject it, or leave it waiting."""
    tick = InboxTick()
    with ThreadPoolExecutor(max_workers=_HEAD_WORKERS) as pool:
        outcomes = list(pool.map(lambda row: _read_object(s3_client, row), rows))
    for row, outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, NewObject):
            if store.fill_inbox_row(row.id, outcome) is not None:
                tick.claimed.append((row.id, outcome))
        elif (reason := _rejection(outcome, row, wait_seconds=wait_seconds, now=now)) is None:
            tick.waiting.append(row.id)
        else:
            store.reject_inbox_row(row.id, message=reason, kind=ErrorKind.PERMANENT, filename=_filename(row.file_url))
            tick.rejected[row.id] = reason
    return tick


def _read_object(s3_client: Any, row: StoredJob) -> NewObject | ExtractionError:
    try:
        new = new_object_for(head_object(s3_client, _supported_ref(row.file_url)))
    except ExtractionError as error:
        return error
    assert new is not None  # _supported_ref checked the extension
    return new


def _rejection(error: ExtractionError, row: StoredJob, *, wait_seconds: float, now: datetime) -> str | None:
    """Why the row fails now, or None to try again next tick."""
    if isinstance(error, ObjectNotFoundError):
        if now - row.created_at < timedelta(seconds=wait_seconds):
            return None  # the app may have inserted the row before its upload finished
        return f"{row.file_url} never appeared in the bucket (waited {wait_seconds:g} s)"
    return None if error.retryable else error.message  # storage hiccups: next tick


def _filename(file_url: str) -> str:
    return file_url.rstrip("/").rsplit("/", 1)[-1]


def inbox_tick(
    store: JobStore, s3_client: Any, instance: object, cursor: InboxCursor, *, max_new: int, wait_seconds: float
) -> tuple[InboxTick, Registration | None]:
    """Confirm the previous tick's claims, then claim up to ``max_new`` new inbox rows and build their requests."""
    confirmed = confirm_claims(store, instance, cursor)
    rows = store.unregistered_pending(limit=max_new)
    tick = claim_rows(store, s3_client, rows, wait_seconds=wait_seconds, now=utcnow())
    tick.confirmed = confirmed
    if not tick.claimed:
        return tick, None
    claimed = [new for _, new in tick.claimed]
    registered = existing_partition_keys(instance, (n.partition_key for n in claimed))
    return tick, registration_for_claimed(claimed, registered_keys=registered, reason=REASON)


def inbox_sensor_tick(
    context: SensorEvaluationContext,
    job_store: JobStoreResource,
    extraction_settings: ExtractionSettings,
    s3: S3ClientResource,
) -> SensorResult | SkipReason:
    """One tick: confirm the previous claims, claim new inbox rows, register them."""
    tick, registration = inbox_tick(
        job_store.get_store(),
        s3.get_client(),
        context.instance,
        InboxCursor.parse(context.cursor),
        max_new=extraction_settings.max_new_per_tick,
        wait_seconds=extraction_settings.stuck_after_seconds,
    )
    for job_id, reason in tick.rejected.items():
        context.log.warning(f"inbox row {job_id} failed: {reason}")
    summary = (
        f"{len(tick.claimed)} claimed, {tick.confirmed} confirmed, {len(tick.rejected)} rejected, "
        f"{len(tick.waiting)} waiting for their object"
    )
    if registration is None:
        context.update_cursor(tick.cursor.serialize())
        return SkipReason(summary)
    context.log.info(summary)
    return registration.sensor_result(launch_runs=extraction_settings.launch_runs, cursor=tick.cursor.serialize())


def build_inbox_sensor(
    interval_seconds: int = settings.DEFAULT_SENSOR_INTERVAL_SECONDS, *, running: bool = True
) -> SensorDefinition:
    @sensor(
        name=SENSOR_NAME,
        target=extract_files,
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED,
        description="Registers and runs the pending rows an app (PyBase) inserted into extraction_jobs.",
    )
    def extraction_inbox_sensor(
        context: SensorEvaluationContext,
        job_store: JobStoreResource,
        extraction_settings: ExtractionSettings,
        s3: S3ClientResource,
    ) -> SensorResult | SkipReason:
        return inbox_sensor_tick(context, job_store, extraction_settings, s3)

    return extraction_inbox_sensor


# The sensor on its default schedule, for direct use; the code location's is built when it loads (``defs``).
extraction_inbox_sensor = build_inbox_sensor()


@definitions
def defs() -> Definitions:
    """The code location's sensor, on the schedule the environment sets (read when the code location loads)."""
    return Definitions(
        sensors=[build_inbox_sensor(settings.sensor_interval_seconds(), running=settings.inbox_enabled())]
    )
