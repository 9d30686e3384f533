"""Faults that lose nothing: one bad SQS message among good ones, against moto server's S3 and SQS over HTTP.

A bucket policy that denies the pipeline's credentials some keys is played by an HTTP proxy in front of moto
answering 403 to their HEADs (moto does not enforce bucket policies); everything else passes through unchanged.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from dagster import build_sensor_context
from sqlalchemy import text

from extraction_pipeline.definitions import build_resources
from extraction_pipeline.defs.detection.listing_sensor import s3_upload_sensor
from extraction_pipeline.defs.detection.sqs_sensor import s3_event_sensor
from extraction_pipeline.defs.extraction.partitions import partition_key_for
from extraction_pipeline.names import SENSOR_NAME_TAG
from extraction_pipeline.objects import ObjectRef, ObjectVersion, RecordLink
from extraction_pipeline.store import JobStatus, JobStore, NewObject
from extraction_pipeline.store.inbox import APP_UPSERT_SQL
from extraction_pipeline.store.models import utcnow
from extraction_pipeline_tests.faults import DenyingHttpProxy
from extraction_pipeline_tests.harness import Pipeline, pipeline_env
from extraction_pipeline_tests.ticks import SensorDriver

SAMPLES = Path(__file__).resolve().parents[1] / "extraction_pipeline" / "samples"
# Detection is the same code on both backends (the inbox tests below run on both): SQLite keeps these quick.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
VISIBILITY_SECONDS = 3
MAX_RECEIVE_COUNT = 3


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[DenyingHttpProxy]:
    host, port = moto_endpoint.removeprefix("http://").split(":")
    server = DenyingHttpProxy(host, int(port))
    yield server
    server.close()


@pytest.fixture
def queues(moto_endpoint: str, s3, bucket: str) -> tuple[str, str]:
    """The uploads queue (receiving the bucket's notifications) with a dead-letter queue, as docs/faults.md says."""
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    name = f"faults-{uuid.uuid4().hex[:10]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(redrive)})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    return url, dlq


@pytest.fixture
def events(monkeypatch, proxy, bucket, database_url, instance, queues) -> SensorDriver:
    """The event sensor of the code location, its S3 and SQS calls going through the proxy."""
    for name, value in pipeline_env(proxy.endpoint, bucket, database_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("EXTRACTION_DETECTION", "sqs")
    monkeypatch.setenv("EXTRACTION_SQS_QUEUE_URL", queues[0])
    monkeypatch.setenv("EXTRACTION_SQS_WAIT_SECONDS", "1")
    monkeypatch.setenv("EXTRACTION_SQS_VISIBILITY_TIMEOUT_SECONDS", str(VISIBILITY_SECONDS))
    return SensorDriver(s3_event_sensor, instance, build_resources())


def _count(sqs, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


def _keys_in(sqs, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return [r["s3"]["object"]["key"] for m in messages for r in json.loads(m["Body"]).get("Records", [])]


@sqlite_only
def test_one_unreadable_object_does_not_hold_up_the_good_messages_and_ends_in_the_dlq(
    events, proxy, s3, bucket, store, queues, moto_endpoint, capfd
) -> None:
    url, dlq = queues
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    good = ["good/one.pdf", "good/two.dxf", "good/three.ifc"]
    for key in [*good, "denied-once.pdf", "denied-always.step"]:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    proxy.denied = {f"/{bucket}/denied-once.pdf", f"/{bucket}/denied-always.step"}

    first = events.tick()  # a tick with two bad messages among good ones still returns its result

    assert sorted(r.partition_key for r in first.run_requests) == sorted(
        partition_key_for(ObjectRef(bucket, k)) for k in good
    )
    assert {r.file_url: r.status for r in store.list(limit=10)} == {
        f"s3://{bucket}/{k}": JobStatus.PENDING for k in good
    }
    assert proxy.denials == 2
    warned = [line for line in capfd.readouterr().err.splitlines() if "leaving SQS message" in line]
    assert len(warned) == 2 and all("AccessDenied" in w or "403" in w for w in warned), warned
    assert any("denied-once.pdf" in w for w in warned) and any("denied-always.step" in w for w in warned)

    events.tick()  # deletes the good messages (their results are committed); the bad ones stay
    assert _count(sqs, url) == 2

    proxy.denied = {f"/{bucket}/denied-always.step"}
    once = ObjectRef(bucket, "denied-once.pdf")  # the policy is fixed for this one: its redelivery registers it
    redelivered = _tick_until(events, lambda: store.find(once) is not None)
    assert partition_key_for(once) in {r.partition_key for t in redelivered for r in t.run_requests}

    # the other one is received maxReceiveCount times, then SQS moves it to the dead-letter queue
    _tick_until(events, lambda: _count(sqs, url) == 0)
    assert _keys_in(sqs, dlq) == ["denied-always.step"]
    assert store.find(ObjectRef(bucket, "denied-always.step")) is None
    assert len(store.list(limit=10)) == 4
    warned = [line for line in capfd.readouterr().err.splitlines() if "leaving SQS message" in line]
    assert sum("denied-always.step" in line for line in warned) == MAX_RECEIVE_COUNT - 1  # the first was read above


def _tick_until(events: SensorDriver, done: Callable[[], bool], attempts: int = 8) -> list:
    """Tick, waiting out the visibility timeout between ticks, until ``done`` (a few redeliveries at most)."""
    ticks = []
    for _ in range(attempts):
        ticks.append(events.tick())
        if done():
            return ticks
        time.sleep(VISIBILITY_SECONDS / 2)
    raise AssertionError(f"not done after {attempts} ticks")


# --- the listing stays inside Dagster's sensor timeout at any bucket size -----------------------------------
def _listing_calls(proxy: DenyingHttpProxy, since: int) -> int:
    return sum(1 for method, path in proxy.requests[since:] if method == "GET" and "list-type=2" in path)


@pytest.fixture
def budgeted(monkeypatch, pipeline, proxy) -> Pipeline:
    """The listing sensor with 10-key pages, at most 2 pages a tick, one run per file; S3 through the proxy."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
    monkeypatch.setenv("EXTRACTION_SENSOR_LIST_PAGE_SIZE", "10")
    monkeypatch.setenv("EXTRACTION_SENSOR_LIST_PAGES_PER_TICK", "2")
    monkeypatch.setenv("EXTRACTION_SENSOR_BATCH_THRESHOLD", "1000")
    pipeline.resources = build_resources()
    return pipeline


@sqlite_only
def test_listing_ticks_stop_at_their_page_budget_and_resume_where_they_stopped(budgeted, proxy, s3, bucket, store):
    keys = [f"store/{n:03d}.pdf" for n in range(55)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.4")

    launched: list[str] = []
    added: list[str] = []
    pages: list[int] = []
    for tick_number in range(3):  # 55 keys, 20 a tick: a pass of three ticks
        before = len(proxy.requests)
        tick = budgeted.tick()
        pages.append(_listing_calls(proxy, before))
        launched += [r.partition_key for r in tick.run_requests]
        added += tick.added_partitions
        if tick_number == 0:
            # uploaded behind the pass's position: the next pass finds it (its LastModified is in the window)
            s3.put_object(Bucket=bucket, Key="late/first.pdf", Body=b"%PDF-1.4")
    assert pages == [2, 2, 2]  # the third tick lists the last 15 keys: pages of 10 and 5
    assert launched == added == [partition_key_for(ObjectRef(bucket, k)) for k in keys]  # in key order, once each

    later = [budgeted.tick() for _ in range(3)]  # the next pass: only the late upload is new
    assert [r.partition_key for t in later for r in t.run_requests] == [
        partition_key_for(ObjectRef(bucket, "late/first.pdf"))
    ]
    assert len(store.list(limit=100)) == 56
    assert all(t.run_requests == [] for t in [budgeted.tick() for _ in range(3)])  # a third pass: nothing new


@sqlite_only
def test_listing_time_budget_stops_a_tick_after_one_page(monkeypatch, budgeted, proxy, s3, bucket, store):
    monkeypatch.setenv("EXTRACTION_SENSOR_LIST_SECONDS_PER_TICK", "0")
    budgeted.resources = build_resources()
    for n in range(25):
        s3.put_object(Bucket=bucket, Key=f"t/{n:02d}.dxf", Body=b"0\nEOF\n")
    counts = []
    for _ in range(3):
        before = len(proxy.requests)
        counts.append((len(budgeted.tick().run_requests), _listing_calls(proxy, before)))
    assert counts == [(10, 1), (10, 1), (5, 1)]
    assert len(store.list(limit=100)) == 25


# --- the inbox merge: the app's record link and options win, whoever writes first --------------------------
APP_LINK = {"record_id": "rec-app", "attachment_id": "att-app"}
APP_OPTIONS = {"ocr": "off", "engine": "native"}
METADATA = {"record-id": "rec-meta", "field-id": "fld-meta", "extraction-ocr": "always", "extraction-ocr-dpi": "200"}
MERGED = ("rec-app", "fld-meta", "att-app", {"ocr": "off", "engine": "native", "ocr_dpi": "200"})


def app_upserts(store: JobStore, file_url: str, link: dict[str, str], options: dict[str, str]) -> str:
    """The app's own write, the statement docs/applications.md documents, run as plain SQL; returns the row id."""
    values = {"id": str(uuid.uuid4()), "file_url": file_url, "record_id": None, "field_id": None,
              "attachment_id": None, **link, "options": json.dumps(options)}  # fmt: skip
    with store.engine.begin() as connection:
        return connection.execute(text(APP_UPSERT_SQL[store.engine.dialect.name]), values).scalar_one()


def _merge_of(row) -> tuple:
    return (row.record_id, row.field_id, row.attachment_id, row.options)


@pytest.mark.parametrize("first", ["app", "detector"])
def test_whoever_writes_first_the_apps_link_and_options_win(first, pipeline, s3, bucket, store) -> None:
    s3.put_object(Bucket=bucket, Key="rec/bracket.dxf", Body=b"0\nEOF\n", Metadata=METADATA)
    etag = s3.head_object(Bucket=bucket, Key="rec/bracket.dxf")["ETag"].strip('"')
    file_url = f"s3://{bucket}/rec/bracket.dxf"

    if first == "app":
        job_id = app_upserts(store, file_url, APP_LINK, APP_OPTIONS)
        tick = pipeline.tick()  # the listing registers the app's row before the inbox sensor claims it
        assert store.get(file_url).id == job_id
    else:
        tick = pipeline.tick()
        registered = store.get(file_url)
        assert _merge_of(registered) == ("rec-meta", "fld-meta", None, {"ocr": "always", "ocr_dpi": "200"})
        assert app_upserts(store, file_url, APP_LINK, APP_OPTIONS) == registered.id  # RETURNING: the row's id

    assert len(tick.run_requests) == 1
    row = store.get(file_url)
    assert _merge_of(row) == MERGED
    assert (row.status, row.etag, row.partition_key) == (JobStatus.PENDING, etag, tick.run_requests[0].partition_key)
    assert len(store.list(limit=10)) == 1

    # a re-upload: the new metadata's keys take effect, the app's link and its own keys stay
    s3.put_object(Bucket=bucket, Key="rec/bracket.dxf", Body=b"0\nSECTION\n0\nENDSEC\n0\nEOF\n",
                  Metadata={**METADATA, "record-id": "rec-other", "extraction-ocr-dpi": "300"})  # fmt: skip
    assert len(pipeline.tick().run_requests) == 1
    again = store.get(file_url)
    assert _merge_of(again) == (
        "rec-app",
        "fld-meta",
        "att-app",
        {"ocr": "always", "engine": "native", "ocr_dpi": "300"},
    )


def test_concurrent_app_and_detector_writes_merge_the_same_way(store) -> None:
    """Thirty files, the app's upserts and a detector's racing from two threads: every row ends the same."""
    refs = [ObjectRef("bkt", f"race/{n:02d}.pdf") for n in range(30)]
    metadata = RecordLink(record_id="rec-meta", field_id="fld-meta")
    news = [
        NewObject(ObjectVersion(ref, f"etag{n}", 10, utcnow(), metadata, {"ocr": "always", "ocr_dpi": "200"}),
                  partition_key_for(ref), "pdf")
        for n, ref in enumerate(refs)
    ]  # fmt: skip
    errors: list[BaseException] = []

    def guarded(action: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                action()
            except BaseException as error:  # surfaced below, in the test's thread
                errors.append(error)

        return run

    app = threading.Thread(
        target=guarded(lambda: [app_upserts(store, r.file_url, APP_LINK, APP_OPTIONS) for r in refs])
    )
    detector = threading.Thread(target=guarded(lambda: [store.upsert_pending([n], max_retries=3) for n in news]))
    app.start(), detector.start()
    app.join(), detector.join()

    assert errors == []
    rows = store.find_many([r.file_url for r in refs])
    assert {url: _merge_of(row) for url, row in rows.items()} == {r.file_url: MERGED for r in refs}


# --- two daemons (a rolling deploy) evaluating the same tick ----------------------------------------------
@sqlite_only
def test_two_daemons_racing_on_one_tick_extract_the_file_once(pipeline, s3, bucket, store) -> None:
    """Dagster 1.13 lets a second daemon run (it only logs "Another SENSOR daemon is still sending heartbeats")
    and its run-key check reads existing runs before creating one: two daemons evaluating the same tick can
    both create the run. Played here as it happens: two evaluations of the tick from the same cursor at once,
    then both runs; the row's claim makes the second one a no-op."""
    s3.put_object(Bucket=bucket, Key="twice/bracket.dxf", Body=(SAMPLES / "bracket.dxf").read_bytes())
    results: list[object] = [None, None]

    def evaluate(index: int) -> None:
        with build_sensor_context(instance=pipeline.instance, cursor=None, resources=pipeline.resources) as context:
            results[index] = s3_upload_sensor(context)

    threads = [threading.Thread(target=evaluate, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    requests = [r for result in results for r in result.run_requests]
    assert len(requests) == 2 and requests[0].run_key == requests[1].run_key  # the same request, twice
    for result in results:
        for added in result.dynamic_partitions_requests:
            pipeline.instance.add_dynamic_partitions(added.partitions_def_name, list(added.partition_keys))

    tags = {**requests[0].tags, SENSOR_NAME_TAG: "s3_upload_sensor"}
    first = pipeline.run(requests[0].partition_key, tags)
    second = pipeline.run(requests[1].partition_key, tags)

    assert first.success and second.success  # a failed duplicate would page someone (and close rows)
    assert len(first.get_asset_materialization_events()) == 1
    assert second.get_asset_materialization_events() == []
    row = store.get(f"s3://{bucket}/twice/bracket.dxf")
    assert (row.status, row.dagster_run_id) == (JobStatus.COMPLETED, first.run_id)
    assert len(store.list(limit=10)) == 1


def test_runs_claiming_the_same_rows_at_once_get_each_row_once(store) -> None:
    refs = [ObjectRef("bkt", f"claim/{n:02d}.pdf") for n in range(40)]
    store.upsert_pending(
        [NewObject(ObjectVersion(r, "e", 1, utcnow()), partition_key_for(r), "pdf") for r in refs], max_retries=3
    )
    urls = [r.file_url for r in refs]
    claims: dict[str, set[str]] = {}

    def claim(run_id: str) -> None:
        claims[run_id] = set().union(*(store.claim_for_run([u], run_id=run_id) for u in urls))

    threads = [threading.Thread(target=claim, args=(f"run-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not claims["run-0"] & claims["run-1"] and claims["run-0"] | claims["run-1"] == set(urls)
    # a re-execution of the holder (its lineage) takes its rows; an unrelated run does not
    assert store.claim_for_run(urls, run_id="retry-of-0", lineage=["run-0"]) == claims["run-0"]
    assert store.claim_for_run(urls, run_id="run-2") == set()


@sqlite_only
def test_a_tick_capped_by_max_new_lists_the_same_part_again(monkeypatch, budgeted, s3, bucket, store) -> None:
    monkeypatch.setenv("EXTRACTION_SENSOR_MAX_NEW_PER_TICK", "15")
    budgeted.resources = build_resources()
    keys = [f"cap/{n:02d}.pdf" for n in range(30)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.4")
    launched = [[r.partition_key for r in budgeted.tick().run_requests] for _ in range(3)]
    # 20 listed, 15 registered; the same 20 again: the other 5; then the last 10
    assert [len(batch) for batch in launched] == [15, 5, 10]
    assert sorted(k for batch in launched for k in batch) == sorted(
        partition_key_for(ObjectRef(bucket, k)) for k in keys
    )
    assert len(store.list(limit=100)) == 30
