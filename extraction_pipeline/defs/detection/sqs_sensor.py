"""S3 event notifications → SQS → ``detection``: a tick costs O(new uploads), not O(bucket).

The bucket sends ``s3:ObjectCreated:*`` and ``s3:ObjectRemoved:*`` notifications to an SQS queue
(``EXTRACTION_DETECTION=sqs``, ``EXTRACTION_SQS_QUEUE_URL``; the endpoint follows ``AWS_ENDPOINT_URL`` like S3).
Each tick long-polls the queue and hands the named objects to the same ``detection`` functions as the listing.

Nothing is lost and nothing is extracted twice:

- A message is deleted only after what it caused is committed: rows are written during the tick, but partitions
  and runs only exist once the daemon applied the tick's result, so the receipt handles travel in the cursor and
  the *next* tick deletes them (a cursor is only stored with an applied result). A crash in between lets the
  message become visible again; the redelivery finds the row and asks for the same run key (partition@ETag),
  which Dagster launches at most once.
- Events are hints, not versions: each named object is HEADed and its *current* ETag is registered. A duplicate,
  or an older event arriving after a newer one, resolves to the version already registered and changes nothing.
- ``ObjectRemoved`` (with the object really gone) marks a row that is not completed ``cancelled`` with the
  reason, instead of letting its run fail on a missing object later.
- One bad message does not hold up the others: a message naming an object the sensor cannot HEAD (access
  denied, a storage error) is left in the queue, with a warning saying which and why, while the rest of the
  tick is registered and deleted. It comes back after its visibility timeout, and after the queue's
  ``maxReceiveCount`` receives SQS moves it to the dead-letter queue (docs/faults.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

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
from extraction_pipeline.defs.detection.registration import register_versions
from extraction_pipeline.defs.extraction.jobs import extract_files
from extraction_pipeline.defs.resources import ExtractionSettings, JobStoreResource, S3ClientResource, SqsQueueResource
from extraction_pipeline.errors import ExtractionError, ObjectNotFoundError
from extraction_pipeline.extractors.detect import format_from_extension
from extraction_pipeline.objects import ObjectRef, ObjectVersion
from extraction_pipeline.s3 import head_object
from extraction_pipeline.store import JobStore

SENSOR_NAME = "s3_event_sensor"
_SQS_BATCH = 10  # the most ReceiveMessage / DeleteMessageBatch take per call
_HEAD_WORKERS = 16
_log = logging.getLogger(__name__)


# --- parsing notifications -------------------------------------------------------------------------------
@dataclass(frozen=True)
class S3Event:
    """One record of a notification: what happened to which object (``created`` / ``removed``)."""

    action: str
    ref: ObjectRef
    etag: str | None
    sequencer: str


@dataclass(frozen=True)
class Message:
    receipt_handle: str
    events: tuple[S3Event, ...]
    message_id: str = ""
    receive_count: int = 0  # SQS's ApproximateReceiveCount: the DLQ takes it after maxReceiveCount


class MalformedNotificationError(ValueError):
    """A message body that is not an S3 event notification (nor the s3:TestEvent)."""


def parse_notification(body: str) -> tuple[S3Event, ...]:
    """The S3 events in one SQS message body (directly from S3, or wrapped by SNS); () for ``s3:TestEvent``."""
    try:
        document = json.loads(body)
        if document.get("Type") == "Notification" and isinstance(document.get("Message"), str):
            document = json.loads(document["Message"])  # S3 → SNS → SQS fan-out
    except (json.JSONDecodeError, AttributeError, TypeError) as error:
        raise MalformedNotificationError(f"not JSON: {body[:200]!r}") from error
    if not isinstance(document, dict):
        raise MalformedNotificationError(f"not an S3 notification: {body[:200]!r}")
    if document.get("Event") == "s3:TestEvent":
        return ()
    if not isinstance(document.get("Records"), list):
        raise MalformedNotificationError(f"no Records in {body[:200]!r}")
    try:
        return tuple(event for record in document["Records"] if (event := _parse_record(record)) is not None)
    except (KeyError, TypeError, AttributeError) as error:
        # a record without s3.bucket.name / s3.object.key: one bad message must not fail the whole tick
        raise MalformedNotificationError(f"a record lacks {error}: {body[:200]!r}") from error


def _parse_record(record: dict[str, Any]) -> S3Event | None:
    name = str(record.get("eventName", ""))
    action = "created" if name.startswith("ObjectCreated:") else "removed" if name.startswith("ObjectRemoved:") else ""
    if not action:
        return None  # restore, replication, lifecycle transitions: nothing to extract
    s3 = record["s3"]
    # Keys arrive URL-encoded the form way: '+' is a space, '%2B' a plus.
    ref = ObjectRef(s3["bucket"]["name"], unquote_plus(s3["object"]["key"]))
    etag = s3["object"].get("eTag")
    # S3's sequencer orders events of one key (hex, compare left-padded); eventTime where a store omits it.
    sequencer = str(s3["object"].get("sequencer") or "").rjust(32, "0") + str(record.get("eventTime", ""))
    return S3Event(action, ref, etag.strip('"') if etag else None, sequencer)


# --- one tick --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventCursor:
    """Receipt handles of messages whose registrations the previous tick returned: delete them first."""

    delete: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str | None) -> EventCursor:
        return cls(tuple(json.loads(raw).get("delete", ()))) if raw else cls()

    def serialize(self) -> str:
        return json.dumps({"delete": list(self.delete)})


@dataclass
class EventTick:
    """What one pass over received messages decided (the sensor returns it; tests read it)."""

    versions: list[ObjectVersion]
    cancelled: list[str]
    ignored: int
    unreadable: dict[ObjectRef, str] = field(default_factory=dict)  # object → why its HEAD failed

    def held(self, messages: Sequence[Message]) -> dict[Message, str]:
        """The messages to leave in the queue (redelivered, then dead-lettered), each with the reason."""
        held: dict[Message, str] = {}
        for message in messages:
            reasons = [self.unreadable[e.ref] for e in message.events if e.ref in self.unreadable]
            if reasons:
                held[message] = "; ".join(dict.fromkeys(reasons))
        return held


def receive_messages(client: Any, queue: SqsQueueResource, max_messages: int) -> list[Message]:
    """Long-poll once, then drain what is already waiting, up to ``max_messages``."""
    messages: list[Message] = []
    wait = queue.wait_seconds
    while len(messages) < max_messages:
        response = client.receive_message(
            QueueUrl=queue.queue_url,
            MaxNumberOfMessages=min(_SQS_BATCH, max_messages - len(messages)),
            WaitTimeSeconds=wait,
            VisibilityTimeout=queue.visibility_timeout_seconds,
            AttributeNames=["ApproximateReceiveCount"],
        )
        batch = response.get("Messages", [])
        if not batch:
            break
        for raw in batch:
            try:
                events = parse_notification(raw.get("Body", ""))
            except MalformedNotificationError as error:
                _log.error(f"deleting a message that is not an S3 notification: {error}")
                events = ()
            count = int(raw.get("Attributes", {}).get("ApproximateReceiveCount", 0))
            messages.append(Message(raw["ReceiptHandle"], events, raw.get("MessageId", ""), count))
        wait = 0  # the queue had something: take what else is there without waiting again
    return messages


def delete_messages(client: Any, queue_url: str, receipt_handles: Sequence[str]) -> None:
    """Delete in batches of 10. A handle that expired meanwhile only means the message comes back (harmless)."""
    for start in range(0, len(receipt_handles), _SQS_BATCH):
        chunk = receipt_handles[start : start + _SQS_BATCH]
        client.delete_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)]
        )


def latest_events(messages: Sequence[Message], *, bucket: str, prefix: str) -> tuple[list[S3Event], int]:
    """The newest event per object of the watched bucket/prefix and supported type; and how many were ignored."""
    latest: dict[ObjectRef, S3Event] = {}
    ignored = 0
    for event in (e for m in messages for e in m.events):
        if not _watched(event.ref, bucket, prefix):
            ignored += 1
        elif event.ref not in latest or event.sequencer >= latest[event.ref].sequencer:
            latest[event.ref] = event
    return list(latest.values()), ignored


def _watched(ref: ObjectRef, bucket: str, prefix: str) -> bool:
    # Unsupported types never get a row, so neither their uploads nor their deletions matter.
    return ref.bucket == bucket and ref.key.startswith(prefix) and format_from_extension(ref.key) is not None


def current_versions(
    s3_client: Any, events: Sequence[S3Event]
) -> Iterator[tuple[S3Event, ObjectVersion | ExtractionError | None]]:
    """Each event with the object's current version (HEAD, concurrently), None when the object is gone, or the
    typed error of a HEAD that failed otherwise (access denied, the store unavailable)."""

    def head(event: S3Event) -> tuple[S3Event, ObjectVersion | ExtractionError | None]:
        try:
            return event, head_object(s3_client, event.ref)
        except ObjectNotFoundError:
            return event, None
        except ExtractionError as error:
            return event, error

    with ThreadPoolExecutor(max_workers=_HEAD_WORKERS) as pool:
        yield from pool.map(head, events)


def apply_events(
    messages: Sequence[Message], *, s3_client: Any, store: JobStore, bucket: str, prefix: str
) -> EventTick:
    """HEAD the named objects; cancel rows of objects that are gone; return the versions to register and the
    objects that could not be read (their messages stay in the queue)."""
    events, ignored = latest_events(messages, bucket=bucket, prefix=prefix)
    tick = EventTick(versions=[], cancelled=[], ignored=ignored)
    for event, version in current_versions(s3_client, events):
        if isinstance(version, ExtractionError):
            kind = "retryable" if version.retryable else "permanent"
            tick.unreadable[event.ref] = f"HEAD {event.ref.file_url} failed ({kind}): {version.message}"
        elif version is not None:
            tick.versions.append(version)  # also after an ObjectRemoved: the key was written again since
        elif store.cancel_removed(event.ref, reason=f"object deleted from the bucket (S3 event {event.action})"):
            tick.cancelled.append(event.ref.file_url)
    return tick


def event_tick(
    context: SensorEvaluationContext,
    job_store: JobStoreResource,
    extraction_settings: ExtractionSettings,
    sqs_queue: SqsQueueResource,
    s3: S3ClientResource,
) -> SensorResult | SkipReason:
    """One tick: delete what the previous tick committed, receive notifications, register what they name."""
    if not sqs_queue.queue_url:
        return SkipReason(
            f"SQS detection is off ({settings.DETECTION_ENV}=sqs and {settings.SQS_QUEUE_URL_ENV} turn it on)"
        )
    client = sqs_queue.get_client()
    cursor = EventCursor.parse(context.cursor)
    # The previous tick's result (rows, partitions, runs) is committed, or this cursor would not be here.
    delete_messages(client, sqs_queue.queue_url, cursor.delete)
    messages = receive_messages(client, sqs_queue, extraction_settings.max_new_per_tick)
    store = job_store.get_store()
    tick = apply_events(
        messages,
        s3_client=s3.get_client(),
        store=store,
        bucket=extraction_settings.bucket,
        prefix=extraction_settings.prefix,
    )
    selection, registration = register_versions(
        tick.versions, store=store, instance=context.instance, max_retries=extraction_settings.max_retries
    )
    held = tick.held(messages)
    for message, reason in held.items():
        context.log.warning(
            f"leaving SQS message {message.message_id or message.receipt_handle[:16]} in the queue "
            f"(received {message.receive_count} time(s); redelivered after the visibility timeout, "
            f"dead-lettered after the queue's maxReceiveCount): {reason}"
        )
    handles = [m.receipt_handle for m in messages if m not in held]
    summary = (
        f"{len(messages)} message(s): {len(selection.new)} to run, {selection.unchanged} already registered, "
        f"{len(tick.cancelled)} cancelled (deleted objects), {tick.ignored} ignored, {len(held)} left in the queue"
    )
    if registration is None:
        delete_messages(client, sqs_queue.queue_url, handles)  # nothing left to commit
        context.update_cursor(EventCursor().serialize())
        return SkipReason(summary)
    context.log.info(summary)
    cursor = EventCursor(tuple(handles)).serialize()
    return registration.sensor_result(launch_runs=extraction_settings.launch_runs, cursor=cursor)


def build_s3_event_sensor(interval_seconds: int = settings.DEFAULT_SENSOR_INTERVAL_SECONDS) -> SensorDefinition:
    @sensor(
        name=SENSOR_NAME,
        target=extract_files,
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="Registers the uploads S3 event notifications name (EXTRACTION_DETECTION=sqs) and runs them.",
    )
    def s3_event_sensor(
        context: SensorEvaluationContext,
        job_store: JobStoreResource,
        extraction_settings: ExtractionSettings,
        sqs_queue: SqsQueueResource,
        s3: S3ClientResource,
    ) -> SensorResult | SkipReason:
        return event_tick(context, job_store, extraction_settings, sqs_queue, s3)

    return s3_event_sensor


# The sensor on its default schedule, for direct use; the code location's is built when it loads (``defs``).
s3_event_sensor = build_s3_event_sensor()


@definitions
def defs() -> Definitions:
    """The code location's sensor, on the schedule the environment sets (read when the code location loads)."""
    return Definitions(sensors=[build_s3_event_sensor(settings.sensor_interval_seconds())])
