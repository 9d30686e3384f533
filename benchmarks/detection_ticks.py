"""Tick cost of each detection mode against bucket size and against the number of new uploads.

  listing  s3_upload_sensor: lists the whole bucket (ListObjectsV2, 1,000 keys a page) every tick
  sqs      s3_event_sensor: receives the S3 event notifications of the new uploads from SQS, HEADs them
  inbox    extraction_inbox_sensor: one indexed query for app-inserted pending rows, HEADs their objects

For each bucket size the bucket holds that many objects already registered (rows in the table, partitions in
Dagster, last modified two days ago, outside the listing's lookback window), as in a store that has been running
for a while. Then, per mode: a steady tick (nothing new) and a tick that finds 100 new uploads. Everything is
real: moto server's S3 and SQS over HTTP on loopback (real bucket notifications), a SQLite table, a SQLite
Dagster instance; only the old objects are put into moto's backend directly, to build 100,000 of them quickly.

Run: .venv/bin/python benchmarks/detection_ticks.py [--sizes 1000 10000 100000] [--new 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests' sensor driver ticks sensors exactly as the tests do

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

MODES = ("listing", "sqs", "inbox")
_ACCOUNT = "123456789012"
_STEADY_REPEATS = 3


def _start_moto() -> str:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def _fill_bucket(bucket: str, count: int) -> list[str]:
    """``count`` old objects put straight into moto's backend (no HTTP), last modified two days ago."""
    from moto.backends import get_backend

    backend = get_backend("s3")[_ACCOUNT]["global"]
    old = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=2)
    keys = [f"store/{index // 1000:03d}/drawing-{index:06d}.pdf" for index in range(count)]
    for key in keys:
        backend.put_object(bucket, key, b"%PDF-1.4 old").last_modified = old
    return keys


def _register_existing(store_url: str, instance, bucket: str, keys: list[str]) -> None:
    """Rows (completed, registered) and partitions for the old objects, in bulk."""
    from sqlalchemy import insert

    from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME, partition_key_for
    from extraction_pipeline.objects import ObjectRef
    from extraction_pipeline.store import JobStore
    from extraction_pipeline.store.models import ExtractionJob

    store = JobStore(store_url)
    now = datetime.now(timezone.utc)
    etag = _etag(b"%PDF-1.4 old")
    partition_keys = [partition_key_for(ObjectRef(bucket, key)) for key in keys]
    rows = [
        {"id": str(uuid.uuid4()), "file_url": f"s3://{bucket}/{key}", "filename": key.rsplit("/", 1)[-1],
         "file_size": 12, "format": "pdf", "etag": etag, "status": "completed", "options": {},
         "partition_key": partition_key, "created_at": now, "updated_at": now, "registered_at": now}
        for key, partition_key in zip(keys, partition_keys, strict=True)
    ]  # fmt: skip
    with store.engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            connection.execute(insert(ExtractionJob), rows[start : start + 2000])
    store.dispose()
    for start in range(0, len(partition_keys), 10_000):
        instance.add_dynamic_partitions(EXTRACTION_PARTITIONS_NAME, partition_keys[start : start + 10_000])


def _etag(body: bytes) -> str:
    import hashlib

    return hashlib.md5(body).hexdigest()


class Bench:
    """One bucket of ``size`` old objects, with the three sensors wired to it."""

    def __init__(self, endpoint: str, size: int, workdir: Path) -> None:
        import boto3
        from dagster import DagsterInstance

        from extraction_pipeline.store.migrate import upgrade_database

        self.endpoint = endpoint
        self.bucket = f"bench-{uuid.uuid4().hex[:10]}"
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        self.sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
        self.s3.create_bucket(Bucket=self.bucket)
        self.database_url = f"sqlite:///{workdir / 'jobs.sqlite3'}"
        upgrade_database(self.database_url)
        (workdir / "home").mkdir()
        self.instance = DagsterInstance.local_temp(str(workdir / "home"))
        started = time.perf_counter()
        keys = _fill_bucket(self.bucket, size)
        _register_existing(self.database_url, self.instance, self.bucket, keys)
        self.setup_seconds = time.perf_counter() - started
        self.queue_url = self.sqs.create_queue(QueueName=self.bucket)["QueueUrl"]
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "EXTRACTION_S3_BUCKET": self.bucket,
                "EXTRACTION_DATABASE_URL": self.database_url,
                "EXTRACTION_DETECTION": "sqs",
                "EXTRACTION_SQS_QUEUE_URL": self.queue_url,
                "EXTRACTION_SQS_WAIT_SECONDS": "0",  # an idle long poll waits; that is not work
                "EXTRACTION_SENSOR_MAX_NEW_PER_TICK": "1000",
            }
        )
        self.drivers = self._drivers()

    def _drivers(self) -> dict:
        from extraction_pipeline.definitions import build_resources
        from extraction_pipeline.defs.detection.inbox_sensor import extraction_inbox_sensor
        from extraction_pipeline.defs.detection.listing_sensor import s3_upload_sensor
        from extraction_pipeline.defs.detection.sqs_sensor import s3_event_sensor
        from extraction_pipeline_tests.ticks import SensorDriver

        resources = build_resources()
        return {
            "listing": SensorDriver(s3_upload_sensor, self.instance, resources),
            "sqs": SensorDriver(s3_event_sensor, self.instance, resources),
            "inbox": SensorDriver(extraction_inbox_sensor, self.instance, resources),
        }

    def tick_seconds(self, mode: str) -> tuple[float, int]:
        started = time.perf_counter()
        tick = self.drivers[mode].tick()
        return time.perf_counter() - started, len(tick.run_requests)

    def steady(self, mode: str) -> float:
        self.tick_seconds(mode)  # the first tick of a listing sets its cursor
        return statistics.median(self.tick_seconds(mode)[0] for _ in range(_STEADY_REPEATS))

    def with_new_uploads(self, mode: str, count: int) -> tuple[float, int]:
        """Upload ``count`` new files the way ``mode`` learns of them, then time the tick that registers them."""
        prefix = f"new-{mode}/"
        if mode == "sqs":
            self._notify_sqs(True)
        for index in range(count):
            self.s3.put_object(Bucket=self.bucket, Key=f"{prefix}{index:04d}.dxf", Body=f"{mode}{index}".encode())
        if mode == "sqs":
            self._notify_sqs(False)
        if mode == "inbox":
            from extraction_pipeline.defs.detection.inbox_sensor import submit_file
            from extraction_pipeline.store import JobStore

            store = JobStore(self.database_url)
            for index in range(count):
                submit_file(store, f"s3://{self.bucket}/{prefix}{index:04d}.dxf")
            store.dispose()
        seconds, runs = self.tick_seconds(mode)
        if mode == "sqs":
            seconds += self.tick_seconds(mode)[0]  # the next tick deletes the messages: part of the cost
        return seconds, runs

    def _notify_sqs(self, on: bool) -> None:
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]
        configuration = {"QueueConfigurations": [{"QueueArn": arn["QueueArn"], "Events": ["s3:ObjectCreated:*"]}]}
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket, NotificationConfiguration=configuration if on else {}
        )
        if on:  # moto sends s3:TestEvent when notifications are configured: consume it
            self.drivers["sqs"].tick()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--new", type=int, default=100)
    args = parser.parse_args()
    endpoint = _start_moto()
    with tempfile.TemporaryDirectory(prefix="detection-bench-") as workdir:
        # Warm-up, not printed: the first tick of a process pays imports and client creation once.
        warm = Bench(endpoint, 200, Path(workdir))
        for mode in MODES:
            warm.steady(mode)
            warm.with_new_uploads(mode, 5)
        warm.instance.dispose()
    print(f"{'objects':>9} {'mode':>8} {'0 new (s)':>10} {f'{args.new} new (s)':>11} {'runs':>5}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="detection-bench-") as workdir:
            bench = Bench(endpoint, size, Path(workdir))
            for mode in MODES:
                steady = bench.steady(mode)
                busy, runs = bench.with_new_uploads(mode, args.new)
                print(f"{size:>9,} {mode:>8} {steady:>10.3f} {busy:>11.3f} {runs:>5}", flush=True)
            print(f"{'':>9} (setup of {size:,} registered objects: {bench.setup_seconds:.1f} s)", flush=True)
            bench.instance.dispose()


if __name__ == "__main__":
    main()
