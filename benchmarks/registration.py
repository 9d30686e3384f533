"""Registering a large existing store, and what the registered partitions then cost, against a bare listing.

For each size N (default 10,000 and 100,000) in one run, on PostgreSQL (Dagster instance storage and the jobs
table, both on the server named by EXTRACTION_TEST_POSTGRES_URL) or SQLite (--backend sqlite):

  bare listing      ListObjectsV2 over the prefix, 1,000 keys a page (what any import must at least do)
  registration      bulk_import.run_import without launching: listing, HEADs for the record link, N
                    partitions in one instance call per 1,000 and N pending rows in one statement per 1,000
  sensor tick cold  s3_upload_sensor's first tick (no cursor: every object is looked at)
  sensor tick 0 new a steady tick afterwards (the objects are older than the lookback window)
  sensor tick 100   a tick that finds 100 new uploads among the N
  all partition keys instance.get_dynamic_partitions: what every sensor tick loaded before (for comparison)
  in-flight check   bulk_import.partitions_in_flight (a re-run's look at unfinished backfills and runs)
  jobs list / stats the `jobs list` (50 newest) and `jobs stats` queries over N rows
  asset page        (PostgreSQL) the asset page's partition query through a dagster-webserver: every key and its
                    status, what the partition bar draws
  backfill launch   (PostgreSQL) `bulk-import`'s launchPartitionBackfill over every key through the webserver

The objects are put into moto's backend directly (no HTTP) to build the store quickly; everything timed talks
to moto's S3 server over HTTP on loopback, in a process of its own (as S3 is: its work does not compete with the
import for this process's GIL).

Run: .venv/bin/python benchmarks/registration.py [--sizes 10000 100000] [--backend postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests' sensor driver ticks the sensor exactly as the tests do

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
_ACCOUNT = "123456789012"
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto server's access log


def _timed(action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def _fill(backend: Any, bucket: str, count: int) -> None:
    backend.create_bucket(bucket, "us-east-1")
    old = datetime.now(timezone.utc) - timedelta(days=2)
    for index in range(count):
        key = f"store/{index // 1000:03d}/{index:06d}.{'pdf' if index % 2 else 'dxf'}"
        backend.put_object(bucket, key, f"old drawing {index}".encode()).last_modified = old


def _serve_store(connection: Any) -> None:
    """The S3 server in a process of its own, as S3 is for a real import (its work does not hold this process's
    GIL); it fills a bucket in its own backend on request."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.backends import get_backend
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    connection.send(server.get_host_and_port())
    backend = get_backend("s3")[_ACCOUNT]["global"]
    while (request := connection.recv()) is not None:
        _fill(backend, *request)
        connection.send("filled")
    server.stop()


def _databases(backend: str, workdir: Path) -> tuple[str, dict[str, Any]]:
    """(jobs table URL, Dagster instance overrides) on a fresh database of each kind."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'jobs.sqlite3'}", {}
    from extraction_pipeline_tests.conftest import POSTGRES_URL, _fresh_postgres_database

    instance_url = _fresh_postgres_database(POSTGRES_URL)
    return _fresh_postgres_database(POSTGRES_URL), {"storage": {"postgres": {"postgres_url": instance_url}}}


def measure(size: int, backend: str, endpoint: str, store_server: Any) -> dict[str, float]:
    import boto3
    from dagster import instance_for_test

    from extraction_pipeline.bulk_import import ImportSource, partitions_in_flight, run_import
    from extraction_pipeline.defs.extraction.partitions import EXTRACTION_PARTITIONS_NAME
    from extraction_pipeline.s3 import list_objects
    from extraction_pipeline.store import JobStore
    from extraction_pipeline.store.migrate import upgrade_database
    from extraction_pipeline_tests.harness import Pipeline, pipeline_env

    workdir = Path(tempfile.mkdtemp(prefix="registration-bench-"))
    bucket = f"store-{uuid.uuid4().hex[:10]}"
    store_server.send((bucket, size))
    assert store_server.recv() == "filled"
    jobs_url, overrides = _databases(backend, workdir)
    upgrade_database(jobs_url)
    os.environ.update(pipeline_env(endpoint, bucket, jobs_url, EXTRACTION_SENSOR_MAX_NEW_PER_TICK="200"))
    client = boto3.client("s3", endpoint_url=endpoint)
    store = JobStore(jobs_url)
    results: dict[str, float] = {}
    with instance_for_test(overrides=overrides) as instance:
        results["bare listing"], listed = _timed(lambda: sum(1 for _ in list_objects(client, bucket, "store/")))
        assert listed == size
        results["registration"], outcome = _timed(
            lambda: run_import(
                ImportSource(bucket, "store/"),
                client=client,
                store=store,
                instance=instance,
                webserver=None,
                max_retries=3,
            )
        )
        assert outcome.counts.new == size
        pipeline = Pipeline(instance)
        results["sensor tick cold"], tick = _timed(pipeline.tick)
        assert not tick.run_requests
        results["sensor tick 0 new"], tick = _timed(pipeline.tick)
        assert not tick.run_requests
        for index in range(100):
            client.put_object(Bucket=bucket, Key=f"store/new/{index:03d}.dxf", Body=f"new {index}".encode())
        results["sensor tick 100 new"], tick = _timed(pipeline.tick)
        assert len(tick.added_partitions) == 100 and tick.run_requests
        results["all partition keys"], keys = _timed(
            lambda: instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME)
        )
        assert len(keys) == size + 100
        results["in-flight check"], _ = _timed(lambda: partitions_in_flight(instance, None))
        results["jobs list"], _ = _timed(lambda: store.list(limit=50))
        results["jobs stats"], _ = _timed(store.stats)
    if overrides:  # PostgreSQL: the webserver over the same instance
        results.update(_webserver_costs(workdir, overrides, ImportSource(bucket, "store/"), list(keys)))
    store.dispose()
    return results


_PARTITION_HEALTH = """
query PartitionHealth($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode {
      partitionKeysByDimension { name partitionKeys }
      assetPartitionStatuses {
        ... on DefaultPartitionStatuses { materializedPartitions materializingPartitions failedPartitions }
      }
    }
  }
}
"""


def _webserver_costs(workdir: Path, overrides: dict[str, Any], source: Any, keys: list[str]) -> dict[str, float]:
    """What the UI and a launch cost at this size: the asset page's partition query (every key and its status,
    what the partition bar draws) and `bulk-import`'s own backfill launch over every key (no daemon runs here,
    so nothing is executed)."""
    import signal
    import socket
    import subprocess
    import urllib.request

    from extraction_pipeline.bulk_import import launch_import_backfill
    from extraction_pipeline.dagster_api import DagsterApiError, DagsterWebserver

    home = workdir / "dagster_home"
    home.mkdir()
    url = overrides["storage"]["postgres"]["postgres_url"]
    (home / "dagster.yaml").write_text(
        f"telemetry: {{enabled: false}}\nstorage:\n  postgres:\n    postgres_url: {url}\n"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bin_dir = Path(sys.executable).parent
    log = (workdir / "webserver.log").open("wb")
    process = subprocess.Popen(
        [str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
         "-m", "extraction_pipeline.definitions"],
        env={**os.environ, "DAGSTER_HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    webserver = DagsterWebserver(f"http://127.0.0.1:{port}/graphql", timeout_seconds=900)
    variables = {"assetKey": {"path": ["file_extraction"]}}
    try:
        deadline = time.monotonic() + 240
        while True:  # the server answers, then the code location loads
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    pass
                if webserver.execute(_PARTITION_HEALTH, variables)["assetNodeOrError"]["__typename"] == "AssetNode":
                    break
            except (OSError, DagsterApiError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the webserver did not load the code location; see {workdir / 'webserver.log'}")
            time.sleep(1)
        costs: dict[str, float] = {}
        costs["asset page partitions"], page = _timed(lambda: webserver.execute(_PARTITION_HEALTH, variables))
        [dimension] = page["assetNodeOrError"]["partitionKeysByDimension"]
        assert len(dimension["partitionKeys"]) == len(keys)
        costs["backfill launch (all)"], _ = _timed(lambda: launch_import_backfill(webserver, keys, source))
        return costs
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    options = parser.parse_args()
    from multiprocessing import get_context

    context = get_context("spawn")
    store_server, child_end = context.Pipe()
    server = context.Process(target=_serve_store, args=(child_end,), daemon=True)
    server.start()
    host, port = store_server.recv()
    endpoint = f"http://{host}:{port}"
    try:
        table = {size: measure(size, options.backend, endpoint, store_server) for size in options.sizes}
    finally:
        store_server.send(None)
        server.join(10)
    print(f"\n{options.backend}, {os.cpu_count()} cores; seconds (x bare listing of the same store)")
    print(f"{'':<22}" + "".join(f"{size:>22,}" for size in options.sizes))
    for name in next(iter(table.values())):
        cells = []
        for size in options.sizes:
            seconds, bare = table[size][name], table[size]["bare listing"]
            cells.append(f"{seconds:>12.2f} ({seconds / bare:>5.1f}x)")
        print(f"{name:<22}" + "".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
