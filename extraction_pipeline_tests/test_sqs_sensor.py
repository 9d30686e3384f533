"""S3 event notifications → SQS → the event sensor, against moto server's S3 and SQS with real notifications."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
from dagster import SkipReason

from extraction_pipeline import settings
from extraction_pipeline.defs.detection.registration import TAG_REASON
from extraction_pipeline.defs.detection.sqs_sensor import (
    MalformedNotificationError,
    parse_notification,
    s3_event_sensor,
)
from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME, partition_key_for
from extraction_pipeline.defs.resources import SqsQueueResource
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus
from extraction_pipeline_tests.rows import complete_row
from extraction_pipeline_tests.ticks import SensorDriver

VISIBILITY_SECONDS = 2


@pytest.fixture
def queue_url(moto_endpoint: str, s3, bucket: str) -> str:
    """A queue receiving the bucket's ObjectCreated/ObjectRemoved notifications (moto sends s3:TestEvent first)."""
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"uploads-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]
        },
    )
    return url


@pytest.fixture
def sqs(moto_endpoint: str):
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def events(monkeypatch, pipeline, queue_url) -> SensorDriver:
    """The event sensor with the code location's resources, configured as the README says."""
    monkeypatch.setenv("EXTRACTION_DETECTION", "sqs")
    monkeypatch.setenv("EXTRACTION_SQS_QUEUE_URL", queue_url)
    monkeypatch.setenv("EXTRACTION_SQS_WAIT_SECONDS", "1")
    monkeypatch.setenv("EXTRACTION_SQS_VISIBILITY_TIMEOUT_SECONDS", str(VISIBILITY_SECONDS))
    queue = SqsQueueResource.from_env()
    return SensorDriver(s3_event_sensor, pipeline.instance, {**pipeline.resources, "sqs_queue": queue})


def messages_left(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def etag_of(s3, bucket: str, key: str) -> str:
    return s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')


def test_notifications_register_new_uploads_and_messages_go_only_after_commit(
    events, s3, bucket, store, sqs, queue_url
):
    keys = ["dir/a b+c.pdf", "part.DXF", "ü/model.ifc", "notes.txt"]  # a space, a plus, unicode; one unsupported
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert messages_left(sqs, queue_url) == 5  # s3:TestEvent + 4 uploads

    first = events.tick()

    supported = keys[:3]
    expected = {partition_key_for(ObjectRef(bucket, k)): etag_of(s3, bucket, k) for k in supported}
    assert {r.partition_key: r.run_key for r in first.run_requests} == {k: f"{k}@{e}" for k, e in expected.items()}
    assert {r.tags[TAG_REASON] for r in first.run_requests} == {"new"}
    assert sorted(first.added_partitions) == sorted(expected)
    rows = store.list(limit=10)
    assert {r.file_url for r in rows} == {f"s3://{bucket}/{k}" for k in supported}
    assert {r.status for r in rows} == {JobStatus.PENDING}
    assert messages_left(sqs, queue_url) == 5  # still in flight: deleted once the result is committed

    second = events.tick()
    assert isinstance(second.result, SkipReason) and second.run_requests == []
    assert messages_left(sqs, queue_url) == 0


def test_a_crash_between_registering_and_deleting_redelivers_without_loss_or_second_run(
    events, s3, bucket, store, sqs, queue_url
) -> None:
    s3.put_object(Bucket=bucket, Key="crash.step", Body=b"ISO-10303-21;")
    key = partition_key_for(ObjectRef(bucket, "crash.step"))

    crashed = events.tick(apply=False)  # rows written; partitions, runs and cursor never stored
    assert [r.partition_key for r in crashed.run_requests] == [key]
    assert events.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME) == []
    time.sleep(VISIBILITY_SECONDS + 0.5)  # the message becomes visible again

    redelivered = events.tick()
    assert [r.run_key for r in redelivered.run_requests] == [r.run_key for r in crashed.run_requests]
    assert redelivered.run_requests[0].tags[TAG_REASON] == "not registered"
    assert events.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME) == [key]
    assert [row.file_url for row in store.list(limit=10)] == [f"s3://{bucket}/crash.step"]

    events.tick()  # deletes what the redelivery registered
    assert messages_left(sqs, queue_url) == 0
    assert events.tick().run_requests == []


def test_duplicate_and_out_of_order_events_never_extract_a_stale_version(
    pipeline, events, s3, bucket, store, sqs, queue_url
) -> None:
    s3.put_object(Bucket=bucket, Key="drawing.dxf", Body=b"0\nEOF\n")
    stale_bodies = [m["Body"] for m in _peek(sqs, queue_url) if "ObjectCreated" in m["Body"]]
    s3.put_object(Bucket=bucket, Key="drawing.dxf", Body=b"0\nSECTION\n0\nENDSEC\n0\nEOF\n")
    newest = etag_of(s3, bucket, "drawing.dxf")

    tick = events.tick()  # both uploads' events in one tick: one run, of the current version
    assert [r.run_key.rsplit("@", 1)[1] for r in tick.run_requests] == [newest]
    events.tick()
    complete_row(store, ObjectRef(bucket, "drawing.dxf"), result={}, file_format="dxf", extractor_version="dxf/x",
                 duration_ms=1, etag=newest)  # fmt: skip

    for body in stale_bodies * 2:  # the older upload's event, delivered again, twice
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    late = events.tick()

    assert late.run_requests == [] and isinstance(late.result, SkipReason)
    row = store.get(f"s3://{bucket}/drawing.dxf")
    assert (row.status, row.etag) == (JobStatus.COMPLETED, newest)
    assert messages_left(sqs, queue_url) == 0


def test_one_message_with_a_batch_of_records(events, s3, bucket, store, sqs, queue_url) -> None:
    for key in ("batch/one.pdf", "batch/two words.ifc"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    events.tick()
    events.tick()  # the notifications moto sent are handled; now one message naming both objects again
    store.mark_cancelled(ObjectRef(bucket, "batch/one.pdf"))
    s3.put_object(Bucket=bucket, Key="batch/one.pdf", Body=b"re-uploaded")
    sqs.purge_queue(QueueUrl=queue_url)
    records = [
        _record(bucket, "batch%2Fone.pdf", "ObjectCreated:Put"),
        _record(bucket, "batch/two+words.ifc", "ObjectCreated:Copy"),
    ]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": records}))

    tick = events.tick()

    assert [(r.partition_key, r.tags[TAG_REASON]) for r in tick.run_requests] == [
        (partition_key_for(ObjectRef(bucket, "batch/one.pdf")), "re-upload")
    ]  # the other record names a version already registered


def test_object_removed_cancels_the_row_with_a_reason(pipeline, events, s3, bucket, store) -> None:
    s3.put_object(Bucket=bucket, Key="gone.pdf", Body=b"x")
    s3.put_object(Bucket=bucket, Key="back.pdf", Body=b"x")
    events.tick()
    s3.delete_object(Bucket=bucket, Key="gone.pdf")
    s3.delete_object(Bucket=bucket, Key="back.pdf")
    s3.put_object(Bucket=bucket, Key="back.pdf", Body=b"written again")  # its ObjectRemoved is out of date

    tick = events.tick()

    gone = store.get(f"s3://{bucket}/gone.pdf")
    assert (gone.status, gone.error_message) == (
        JobStatus.CANCELLED,
        "object deleted from the bucket (S3 event removed)",
    )
    back = store.get(f"s3://{bucket}/back.pdf")
    assert back.status is JobStatus.PENDING and back.etag == etag_of(s3, bucket, "back.pdf")
    assert [r.partition_key for r in tick.run_requests] == [partition_key_for(ObjectRef(bucket, "back.pdf"))]
    # the queued run of the cancelled file refuses to extract it instead of failing on a missing object
    run = pipeline.run(partition_key_for(ObjectRef(bucket, "gone.pdf")), {TAG_REASON: "new"})
    assert not run.success
    assert store.get(gone.id).status is JobStatus.CANCELLED


def test_listing_reconciler_in_sqs_mode_runs_hourly_and_never_double_launches(
    monkeypatch, pipeline, events, s3, bucket
) -> None:
    assert settings.listing_interval_seconds() == 3600
    monkeypatch.setenv("EXTRACTION_RECONCILE_INTERVAL_SECONDS", "600")
    assert settings.listing_interval_seconds() == 600
    s3.put_object(Bucket=bucket, Key="seen.pdf", Body=b"x")
    assert len(events.tick().run_requests) == 1

    reconcile = pipeline.tick()

    assert reconcile.run_requests == [] and reconcile.added_partitions == []


def test_sqs_sensor_is_off_unless_configured(monkeypatch, pipeline) -> None:
    monkeypatch.delenv("EXTRACTION_DETECTION", raising=False)
    monkeypatch.setenv("EXTRACTION_SQS_QUEUE_URL", "http://127.0.0.1:1/never-called")
    queue = SqsQueueResource.from_env()
    off = SensorDriver(s3_event_sensor, pipeline.instance, {**pipeline.resources, "sqs_queue": queue})
    assert "SQS detection is off" in off.tick().result.skip_message
    monkeypatch.setenv("EXTRACTION_DETECTION", "kafka")
    with pytest.raises(ValueError, match="EXTRACTION_DETECTION='kafka': expected one of listing, sqs"):
        settings.detection_mode()


def test_notification_parsing() -> None:
    assert parse_notification('{"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}') == ()
    wrapped = json.dumps(
        {"Type": "Notification", "Message": json.dumps({"Records": [_record("b", "a%2Bb+c.pdf", "ObjectCreated:Put")]})}
    )
    (event,) = parse_notification(wrapped)
    assert (event.action, event.ref, event.etag) == ("created", ObjectRef("b", "a+b c.pdf"), "e0")
    assert parse_notification(json.dumps({"Records": [{"eventName": "ObjectRestore:Completed"}]})) == ()
    with pytest.raises(MalformedNotificationError, match="not JSON"):
        parse_notification("hello")


def _record(bucket: str, encoded_key: str, event_name: str) -> dict:
    return {
        "eventName": event_name,
        "eventTime": "2026-12-01T00:00:00.000Z",
        "s3": {"bucket": {"name": bucket}, "object": {"key": encoded_key, "eTag": "e0", "size": 1}},
    }


def _peek(sqs, queue_url: str) -> list[dict]:
    """Read the waiting messages and make them visible again at once (they stay in the queue)."""
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    for message in messages:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return messages


def test_code_location_registers_the_event_and_inbox_sensors_next_to_the_listing() -> None:
    from dagster import DefaultSensorStatus

    from extraction_pipeline.definitions import defs

    for name in ("s3_upload_sensor", "s3_event_sensor", "extraction_inbox_sensor"):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status is DefaultSensorStatus.RUNNING, name
        assert sensor.minimum_interval_seconds == 30, name  # listing mode (the default) at load time
