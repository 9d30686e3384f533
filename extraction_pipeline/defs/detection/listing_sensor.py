"""The S3 listing sensor: every tick, list the bucket and hand what is new to ``detection``.

Not missing uploads matters more than a cheap tick: S3 listings have no server-side "since" filter and
``LastModified`` has 1-second resolution (and is the *start* of a multipart upload), so the cursor is a
high-water mark on ``LastModified`` minus a lookback window, and everything inside the window is
de-duplicated against the table (one batched query) and, for the candidates only, the registered partitions.
"""

import json
import time
from dataclasses import dataclass
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
    existing_partition_keys,
    register_new_objects,
    select_new_objects,
)
from extraction_pipeline.defs.extraction.jobs import extract_files
from extraction_pipeline.defs.resources import ExtractionSettings, JobStoreResource, S3ClientResource
from extraction_pipeline.objects import ObjectVersion
from extraction_pipeline.s3 import list_object_pages, with_user_metadata


@dataclass(frozen=True)
class ListingCursor:
    """Everything last modified before ``high_water`` − lookback has been handled.

    A pass over the bucket may span several ticks (each lists at most its page and time budget): ``resume_after``
    is the last key listed so far (None: the next tick starts a new pass), ``pass_newest`` and
    ``pass_oldest_deferred`` what the pass has seen, folded into ``high_water`` when it reaches the end.
    """

    high_water: datetime | None = None
    resume_after: str | None = None
    pass_newest: datetime | None = None
    pass_oldest_deferred: datetime | None = None

    @classmethod
    def parse(cls, raw: str | None) -> "ListingCursor":
        if not raw:
            return cls()
        document = json.loads(raw)
        return cls(
            _when(document.get("high_water")),
            document.get("resume_after"),
            _when(document.get("pass_newest")),
            _when(document.get("pass_oldest_deferred")),
        )

    def serialize(self) -> str:
        return json.dumps(
            {
                "high_water": _iso(self.high_water),
                "resume_after": self.resume_after,
                "pass_newest": _iso(self.pass_newest),
                "pass_oldest_deferred": _iso(self.pass_oldest_deferred),
            }
        )

    def window_start(self, lookback: timedelta) -> datetime | None:
        return self.high_water - lookback if self.high_water else None

    def advanced(
        self, listed: list[ObjectVersion], oldest_deferred: datetime | None, *, resume_after: str | None = None
    ) -> "ListingCursor":
        """After a tick that listed ``listed`` (inside the window) and left ``oldest_deferred`` for later: the
        pass goes on after ``resume_after``, or (None) it is complete and the high-water mark moves."""
        newest = _latest(self.pass_newest, max((v.last_modified for v in listed), default=None))
        deferred = _earliest(self.pass_oldest_deferred, oldest_deferred)
        if resume_after is not None:
            return ListingCursor(self.high_water, resume_after, newest, deferred)
        # With objects left over for the next pass, stop at the oldest of them so they stay in the window.
        high_water = deferred if deferred is not None else _latest(newest, self.high_water)
        if self.high_water is not None and (high_water is None or high_water < self.high_water):
            high_water = self.high_water
        return ListingCursor(high_water)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((v for v in (a, b) if v is not None), default=None)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min((v for v in (a, b) if v is not None), default=None)


@dataclass
class ListedChunk:
    """What one tick listed: the objects, and where the pass resumes (None: it reached the end)."""

    versions: list[ObjectVersion]
    resume_after: str | None
    pages: int


def list_chunk(client: Any, extraction_settings: ExtractionSettings, *, start_after: str | None) -> ListedChunk:
    """List from ``start_after`` until the bucket ends or the tick's page or time budget is spent."""
    deadline = time.monotonic() + extraction_settings.list_seconds_per_tick
    chunk = ListedChunk(versions=[], resume_after=None, pages=0)
    pages = list_object_pages(
        client,
        extraction_settings.bucket,
        extraction_settings.prefix,
        start_after=start_after,
        page_size=extraction_settings.list_page_size,
    )
    for page in pages:
        chunk.versions.extend(page.versions)
        chunk.pages += 1
        if not page.truncated:
            return chunk
        chunk.resume_after = page.last_key
        if chunk.pages >= extraction_settings.list_pages_per_tick or time.monotonic() >= deadline:
            return chunk
    chunk.resume_after = None
    return chunk


def listing_tick(
    context: SensorEvaluationContext,
    s3: S3ClientResource,
    job_store: JobStoreResource,
    extraction_settings: ExtractionSettings,
) -> SensorResult | SkipReason:
    """One tick: list (a budgeted part of) the window since the cursor, select what is new, register it."""
    client = s3.get_client()
    store = job_store.get_store()
    cursor = ListingCursor.parse(context.cursor)
    window_start = cursor.window_start(timedelta(seconds=extraction_settings.lookback_seconds))
    chunk = list_chunk(client, extraction_settings, start_after=cursor.resume_after)
    listed = [v for v in chunk.versions if window_start is None or v.last_modified >= window_start]
    selection = select_new_objects(
        listed,
        store=store,
        registered_keys=set(),
        max_new=extraction_settings.max_new_per_tick,
        # only the candidates' partitions, not all of them (100,000 keys would be loaded every tick)
        lookup_registered=lambda keys: existing_partition_keys(context.instance, keys),
    )
    registered = selection.registered_keys
    if selection.deferred and chunk.resume_after is not None:
        # The per-tick cap left files of this part for later: list it again rather than move on past them.
        next_cursor = cursor.serialize()
    else:
        next_cursor = cursor.advanced(listed, selection.oldest_deferred, resume_after=chunk.resume_after).serialize()
    where = f"; {chunk.pages} page(s), resuming after {chunk.resume_after!r} next tick" if chunk.resume_after else ""
    if not selection.new:
        context.update_cursor(next_cursor)
        return SkipReason(f"no new files among {len(listed)} listed ({selection.unchanged} unchanged){where}")
    registration = register_new_objects(
        selection,
        store=store,
        registered_keys=registered,
        max_retries=extraction_settings.max_retries,
        enrich=lambda version: with_user_metadata(client, version),
        batch_threshold=extraction_settings.batch_threshold,
        batch_size=extraction_settings.batch_size,
    )
    context.log.info(
        f"{len(selection.new)} new file(s), {len(selection.deferred)} left for the next tick, "
        f"{selection.unchanged} unchanged, {selection.unsupported} unsupported{where}"
        + ("" if extraction_settings.launch_runs else "; registered only (bulk import: run them as a backfill)")
    )
    return registration.sensor_result(launch_runs=extraction_settings.launch_runs, cursor=next_cursor)


def build_s3_upload_sensor(
    interval_seconds: int = settings.DEFAULT_SENSOR_INTERVAL_SECONDS,
) -> SensorDefinition:
    @sensor(
        name="s3_upload_sensor",
        target=extract_files,
        # In SQS mode this listing only reconciles (EXTRACTION_RECONCILE_INTERVAL_SECONDS) behind the event sensor.
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="Registers each new or re-uploaded supported file in the bucket as a partition and runs it.",
    )
    def s3_upload_sensor(
        context: SensorEvaluationContext,
        s3: S3ClientResource,
        job_store: JobStoreResource,
        extraction_settings: ExtractionSettings,
    ) -> SensorResult | SkipReason:
        return listing_tick(context, s3, job_store, extraction_settings)

    return s3_upload_sensor


# The sensor on its default schedule, for direct use; the code location's is built when it loads (``defs``).
s3_upload_sensor = build_s3_upload_sensor()


@definitions
def defs() -> Definitions:
    """The code location's sensor, on the schedule the environment sets (read when the code location loads)."""
    return Definitions(sensors=[build_s3_upload_sensor(settings.listing_interval_seconds())])
