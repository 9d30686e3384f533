"""The S3 listing sensor against a real S3 HTTP API (moto server) and a real Dagster instance."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from dagster import SkipReason

from extraction_pipeline.defs.detection.registration import TAG_FORMAT, TAG_REASON
from extraction_pipeline.defs.extraction.partitions import (
    EXTRACTION_PARTITIONS_NAME,
    object_for_partition,
    partition_key_for,
)
from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus
from extraction_pipeline_tests.harness import Pipeline
from extraction_pipeline_tests.rows import complete_row


def put(s3, bucket: str, key: str, body: bytes = b"x", **metadata: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata)


def test_tick_registers_exactly_the_new_supported_files_then_nothing(pipeline, s3, bucket, store) -> None:
    keys = ["a/drawing.pdf", "a/part.DXF", "b/model.ifc", "b/shaft.stp", "c/assy.step", "d/scan.TIF"]
    for key in [*keys, "notes.txt", "img.gif"]:
        put(s3, bucket, key)

    tick = pipeline.tick()

    supported = ["a/drawing.pdf", "a/part.DXF", "b/model.ifc", "b/shaft.stp", "c/assy.step", "d/scan.TIF"]
    expected = {partition_key_for(ObjectRef(bucket, k)) for k in supported}

    assert set(tick.added_partitions) == expected
    assert {r.partition_key for r in tick.run_requests} == expected
    assert set(pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME)) == expected
    formats = {object_for_partition(r.partition_key).key: r.tags[TAG_FORMAT] for r in tick.run_requests}
    assert formats == {"a/drawing.pdf": "pdf", "a/part.DXF": "dxf", "b/model.ifc": "ifc", "b/shaft.stp": "step",
                       "c/assy.step": "step", "d/scan.TIF": "image"}  # fmt: skip
    assert all(r.tags[TAG_REASON] == "new" for r in tick.run_requests)
    rows = store.list(limit=100)
    assert {row.file_url for row in rows} == {f"s3://{bucket}/{k}" for k in supported}
    assert {row.status for row in rows} == {JobStatus.PENDING}

    second = pipeline.tick()
    assert isinstance(second.result, SkipReason)
    assert second.run_requests == [] and second.added_partitions == []


def test_run_key_is_partition_plus_etag_and_reupload_requests_a_new_run(pipeline, s3, bucket, store) -> None:
    put(s3, bucket, "part.dxf", b"first version")
    first = pipeline.tick().run_requests
    assert len(first) == 1
    etag = s3.head_object(Bucket=bucket, Key="part.dxf")["ETag"].strip('"')
    assert first[0].run_key == f"{first[0].partition_key}@{etag}"
    complete_row(store, ObjectRef(bucket, "part.dxf"), result={}, file_format="dxf", extractor_version="dxf/1",
                 duration_ms=1)  # fmt: skip

    put(s3, bucket, "part.dxf", b"second version, new etag")
    second = pipeline.tick()

    assert second.added_partitions == []  # same partition, already registered
    assert [r.partition_key for r in second.run_requests] == [first[0].partition_key]
    assert second.run_requests[0].run_key != first[0].run_key
    assert second.run_requests[0].tags[TAG_REASON] == "re-upload"
    row = store.get(f"s3://{bucket}/part.dxf")
    assert row.status is JobStatus.PENDING and row.etag != etag and row.result is None


def test_cancelled_and_finished_rows_are_left_alone_until_reupload(pipeline, s3, bucket, store) -> None:
    put(s3, bucket, "a.pdf")
    put(s3, bucket, "b.pdf")
    pipeline.tick()
    store.mark_cancelled(ObjectRef(bucket, "a.pdf"))
    store.mark_failed(ObjectRef(bucket, "b.pdf"), message="bad", kind=ErrorKind.PERMANENT)
    pipeline.cursor = None  # even a full re-scan must not resurrect them

    assert pipeline.tick().run_requests == []


def test_pending_row_of_a_tick_that_died_is_requested_again(pipeline, s3, bucket) -> None:
    put(s3, bucket, "a.pdf")
    first = pipeline.tick().run_requests
    # The tick wrote its pending row but died before the daemon registered the partition.
    pipeline.instance.delete_dynamic_partition(EXTRACTION_PARTITIONS_NAME, first[0].partition_key)
    pipeline.cursor = None

    again = pipeline.tick().run_requests

    # Same run_key, so Dagster launches it at most once.
    assert [r.run_key for r in again] == [r.run_key for r in first]
    assert again[0].tags[TAG_REASON] == "not registered"


# The listing and tick logic is backend-independent and 2,500 uploads through moto take about a minute here: run it
# once, on SQLite (the batched known-etags query is exercised on PostgreSQL in test_store).
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_2500_objects_are_all_seen_across_capped_ticks(monkeypatch, pipeline, s3, bucket, store) -> None:
    monkeypatch.setenv("EXTRACTION_SENSOR_MAX_NEW_PER_TICK", "1000")
    pipeline.resources = Pipeline(pipeline.instance).resources
    keys = [f"bulk/{i:05d}.dxf" for i in range(2500)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda key: put(s3, bucket, key), keys))

    ticks = list(pipeline.ticks_until_idle())

    assert [len(t.added_partitions) for t in ticks] == [1000, 1000, 500]
    # a burst: runs of EXTRACTION_BACKFILL_BATCH_SIZE (250) files, each a contiguous range of the tick's keys
    assert [len(t.run_requests) for t in ticks] == [4, 4, 2]
    registered = pipeline.instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME)
    position = {key: index for index, key in enumerate(registered)}
    seen = {
        object_for_partition(key).key
        for t in ticks
        for r in t.run_requests
        for key in registered[position[r.tags[RANGE_START]] : position[r.tags[RANGE_END]] + 1]
    }
    assert seen == set(keys)
    assert len(registered) == 2500
    assert store.stats().by_status == {"pending": 2500}


@pytest.mark.parametrize(
    "key",
    [
        "odd/name...with dots.pdf",
        "odd/comma, and [brackets] | pipe.dxf",
        "odd/spaces  and\ttab.ifc",
        "odd/ünïcödé/図面 ø12.step",
        "odd/100% done*.stp",
        "odd/../escape/../../etc/passwd.dxf",
    ],
)
def test_keys_with_reserved_characters_round_trip(pipeline, s3, bucket, store, key) -> None:
    put(s3, bucket, key)

    [request] = pipeline.tick().run_requests

    partition_key = request.partition_key
    for reserved in ("...", ",", "[", "]", "|", " ", "\t"):
        assert reserved not in partition_key.partition("/")[2]
    assert object_for_partition(partition_key) == ObjectRef(bucket, key)
    row = store.get(f"s3://{bucket}/{key}")
    assert row.partition_key == partition_key and row.filename == key.rsplit("/", 1)[1]


def test_record_link_and_options_come_from_user_metadata(pipeline, s3, bucket, store) -> None:
    put(s3, bucket, "linked.pdf", **{"record-id": "rec42", "field-id": "fld7", "attachment-id": "att9",
                                     "extraction-engine": "native", "extraction-max-pages": "2"})  # fmt: skip

    pipeline.tick()

    row = store.get(f"s3://{bucket}/linked.pdf")
    assert (row.record_id, row.field_id, row.attachment_id) == ("rec42", "fld7", "att9")
    assert row.options == {"engine": "native", "max_pages": "2"}


def set_last_modified(bucket: str, key: str, when: datetime) -> None:
    """Give an object the ``LastModified`` S3 would list for a late upload (a multipart upload's is its start).

    moto's server cannot be told a time over HTTP, but it runs in this process: the sensor still lists the object
    through the S3 API, with this timestamp.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    s3_backends[DEFAULT_ACCOUNT_ID]["global"].buckets[bucket].keys[key].last_modified = when.replace(tzinfo=None)


HIGH_WATER = datetime(2026, 3, 2, 10, 0, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("lookback_seconds", "late_by_seconds", "seen"),
    [
        (0, 0, True),  # uploaded after the tick, in the same second as the newest object it saw
        (0, 1, False),  # a second earlier: without a lookback it is behind the high-water mark for good
        (60, 59, True),  # inside EXTRACTION_SENSOR_LOOKBACK_SECONDS
        (60, 61, False),  # outside it: the window is the setting's, not a built-in one
    ],
)
def test_the_lookback_window_catches_uploads_listed_after_a_newer_one(
    monkeypatch, pipeline: Pipeline, s3, bucket: str, lookback_seconds: int, late_by_seconds: int, seen: bool
) -> None:
    monkeypatch.setenv("EXTRACTION_SENSOR_LOOKBACK_SECONDS", str(lookback_seconds))
    pipeline.resources = Pipeline(pipeline.instance).resources
    put(s3, bucket, "first.pdf")
    set_last_modified(bucket, "first.pdf", HIGH_WATER)
    assert [object_for_partition(r.partition_key).key for r in pipeline.tick().run_requests] == ["first.pdf"]
    put(s3, bucket, "late.pdf")
    set_last_modified(bucket, "late.pdf", HIGH_WATER - timedelta(seconds=late_by_seconds))

    tick = pipeline.tick()

    assert [object_for_partition(r.partition_key).key for r in tick.run_requests] == (["late.pdf"] if seen else [])
    listed = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed["late.pdf"] == HIGH_WATER - timedelta(seconds=late_by_seconds)  # what the sensor listed


def test_pdf_sent_to_werk24_is_a_werk24_job(monkeypatch, pipeline, s3, bucket, store) -> None:
    """So the werk24 tag concurrency limit of dagster.yaml caps it."""
    monkeypatch.setenv("WERK24_TOKEN", "token-for-tagging-only")
    put(s3, bucket, "ai.pdf", **{"extraction-engine": "werk24"})
    put(s3, bucket, "plain.pdf")

    tags = {object_for_partition(r.partition_key).key: r.tags[TAG_FORMAT] for r in pipeline.tick().run_requests}

    assert tags == {"ai.pdf": "werk24", "plain.pdf": "pdf"}
    assert store.get(f"s3://{bucket}/ai.pdf").format == "werk24"


def test_bulk_import_mode_registers_files_without_per_file_runs(monkeypatch, pipeline, s3, bucket, store) -> None:
    """EXTRACTION_SENSOR_LAUNCH_RUNS=false: partitions and pending rows only; a batched backfill extracts them."""
    monkeypatch.setenv("EXTRACTION_SENSOR_LAUNCH_RUNS", "false")
    pipeline.resources = Pipeline(pipeline.instance).resources
    for key in ("old/a.pdf", "old/b.dxf"):
        put(s3, bucket, key)

    tick = pipeline.tick()

    assert tick.run_requests == [] and len(tick.added_partitions) == 2
    assert store.stats().by_status == {"pending": 2}
    assert isinstance(pipeline.tick().result, SkipReason)  # registered files are not "new" again
