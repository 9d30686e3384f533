"""Bulk import of N small DXF/PDF files: the pipeline against a bare 2-process loop, side by side in one run.

  bare loop   2 processes (multiprocessing), each with one boto3 client: for each file download it from the
              local S3 endpoint to a temp file and call the same extractor function in-process
              (``extractor_for(format).extract``). Timed from the pool's start to its last file.
  batch runs  the backfill's batch code in this process: one ``materialize`` per EXTRACTION_BACKFILL_BATCH_SIZE
              files (partition-range tags, as a backfill run), rows in SQLite. No daemon, no run processes.
  bulk-import the real thing: `extraction-pipeline bulk-import s3://bucket/prefix` against a running
              dagster-webserver + dagster-daemon (SQLite instance as in `make dev`, runs queued under
              dagster.yaml's limits); timed from the command's start until it exits, i.e. until every row
              is final (listing, registration, backfill launch, daemon, run processes, extraction).

The files (half DXF of ~60 KB, half PDF of ~2 KB, built with the test builders) are uploaded before timing.

Run: .venv/bin/python benchmarks/bulk_import.py [--files 1000] [--modes bare,batch,import]
                                                  [--instance sqlite|postgresql]
(BENCH_KEEP=1 keeps the temporary folder with the instance and the logs.)
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))  # the test builders and harness drive the pipeline exactly as the tests do
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto server's access log

INSTANCE_YAML = """\
telemetry: {enabled: false}
nux: {enabled: false}
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config: {dequeue_interval_seconds: 1}
concurrency:
  runs:
    max_concurrent_runs: 2
    tag_concurrency_limits:
      - {key: extraction/reason, value: bulk-import, limit: 2}
"""


# --- the files -------------------------------------------------------------------------------------------
def build_files(count: int, folder: Path) -> list[tuple[str, bytes]]:
    from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
    from extraction_pipeline_tests.extractors.pdf_builders import build_drawing_pdf

    dxf = build_drawing_dxf(folder / "drawing.dxf").read_bytes()
    pdf = build_drawing_pdf(folder / "drawing.pdf").read_bytes()
    return [(f"{i:05d}.dxf", dxf) if i % 2 else (f"{i:05d}.pdf", pdf) for i in range(count)]


def upload(client: Any, bucket: str, prefix: str, files: list[tuple[str, bytes]]) -> None:
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda f: client.put_object(Bucket=bucket, Key=prefix + f[0], Body=f[1]), files))


# --- bare loop -------------------------------------------------------------------------------------------
def _bare_worker(args: tuple[str, str, list[str]]) -> int:
    import boto3

    from extraction_pipeline.extractors import detect_format
    from extraction_pipeline.extractors.registry import extractor_for
    from extraction_pipeline.extractors.schema import SourceInfo

    bucket, endpoint, keys = args
    client = boto3.client("s3", endpoint_url=endpoint)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "object"
        for key in keys:
            client.download_file(bucket, key, str(path))
            source = SourceInfo(filename=key.rsplit("/", 1)[-1], size=path.stat().st_size, sha256="0" * 64)
            extractor_for(detect_format(path, source.filename)).extract(path, source, {})
    return len(keys)


def bare_loop(bucket: str, endpoint: str, keys: list[str]) -> float:
    started = time.perf_counter()
    with get_context("spawn").Pool(2) as pool:
        assert sum(pool.map(_bare_worker, [(bucket, endpoint, keys[0::2]), (bucket, endpoint, keys[1::2])])) == len(
            keys
        )
    return time.perf_counter() - started


# --- batch runs in this process --------------------------------------------------------------------------
def batch_runs(bucket: str, prefix: str) -> float:
    import boto3
    from dagster import instance_for_test, materialize

    from extraction_pipeline import settings
    from extraction_pipeline.bulk_import import ImportSource, run_import
    from extraction_pipeline.definitions import build_resources
    from extraction_pipeline.defs.extraction.assets import file_extraction
    from extraction_pipeline.store import JobStore

    store = JobStore(os.environ["EXTRACTION_DATABASE_URL"])
    size = settings.backfill_batch_size()
    with instance_for_test() as instance:
        client = boto3.client("s3")
        started = time.perf_counter()
        keys = run_import(ImportSource(bucket, prefix), client=client, store=store, instance=instance,
                          webserver=None, max_retries=3).partition_keys  # fmt: skip
        resources = build_resources()
        for start in range(0, len(keys), size):
            chunk = keys[start : start + size]
            tags = {"dagster/asset_partition_range_start": chunk[0], "dagster/asset_partition_range_end": chunk[-1]}
            assert materialize([file_extraction], resources=resources, instance=instance, tags=tags).success
        return time.perf_counter() - started


# --- the real bulk import against a running webserver + daemon ---------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def live_stack(env: dict[str, str]) -> Any:
    from dagster import DagsterInstance

    home = Path(env["DAGSTER_HOME"])
    instance_yaml = INSTANCE_YAML
    if env.get("BENCH_INSTANCE_URL"):  # --instance postgresql: the production instance storage
        instance_yaml += f"storage:\n  postgres:\n    postgres_url: {env['BENCH_INSTANCE_URL']}\n"
    (home / "dagster.yaml").write_text(instance_yaml)
    DagsterInstance.from_config(str(home)).dispose()  # create the SQLite storages once, before three processes race
    port = int(env["EXTRACTION_DAGSTER_URL"].split(":")[-1].split("/")[0])
    location = ["-m", "extraction_pipeline.definitions"]
    full_env = {**os.environ, **env}
    logs = [(home / f"{name}.log").open("wb") for name in ("webserver", "daemon")]
    processes = [
        subprocess.Popen([str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), *location],
                         env=full_env, stdout=logs[0], stderr=subprocess.STDOUT, start_new_session=True),
        subprocess.Popen([str(BIN / "dagster-daemon"), "run", *location], env=full_env, stdout=logs[1],
                         stderr=subprocess.STDOUT, start_new_session=True),
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2),
            ):
                break
            time.sleep(1)
        time.sleep(5)  # the code location loads after the server answers
        yield
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for log in logs:
            log.close()


def bulk_import_command(bucket: str, prefix: str, env: dict[str, str]) -> float:
    with live_stack(env):
        started, wall_start = time.perf_counter(), time.time()
        done = subprocess.run([str(BIN / "extraction-pipeline"), "bulk-import", f"s3://{bucket}/{prefix}"],
                              env={**os.environ, **env}, capture_output=True, text=True)  # fmt: skip
        elapsed = time.perf_counter() - started
        phases = _phases(wall_start, wall_start + elapsed)
    tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
    print("  bulk-import exit", done.returncode, "|", " | ".join(tail), flush=True)
    print("  phases: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items()), flush=True)
    return elapsed


def _phases(start: float, end: float) -> dict[str, float]:
    """Where the command's time went, from the instance: listing + registration + launch, then the wait for
    Dagster's backfill daemon (it looks at new backfills every 30 s, a fixed interval), then the runs."""
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        [backfill] = instance.get_backfills()
        runs = instance.get_run_records()
    first_run = min(record.create_timestamp.timestamp() for record in runs)
    return {
        "listing+registration+launch": backfill.backfill_timestamp - start,
        "waiting for the backfill daemon's tick": first_run - backfill.backfill_timestamp,
        f"{len(runs)} runs until every row is final": end - first_run,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--modes", default="bare,batch,import")
    parser.add_argument("--instance", choices=["sqlite", "postgresql"], default="sqlite",
                        help="the live stack's Dagster instance storage (postgresql: a fresh database on "
                        "EXTRACTION_TEST_POSTGRES_URL's server, as in production)")  # fmt: skip
    options = parser.parse_args()
    modes = options.modes.split(",")

    import boto3
    from moto.server import ThreadedMotoServer

    from extraction_pipeline.store.migrate import upgrade_database

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    state = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    endpoint = f"http://{host}:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1", "EXTRACTION_S3_BUCKET": f"{bucket}-watched",
        "DAGSTER_HOME": str(state / "dagster_home"), "DAGSTER_DISABLE_TELEMETRY": "1",
        "EXTRACTION_DAGSTER_URL": f"http://127.0.0.1:{_free_port()}/graphql",
    }  # fmt: skip
    if options.instance == "postgresql":
        from extraction_pipeline_tests.conftest import POSTGRES_URL, _fresh_postgres_database

        env["BENCH_INSTANCE_URL"] = _fresh_postgres_database(POSTGRES_URL)
    os.environ.update(env)
    (state / "dagster_home").mkdir()
    client = boto3.client("s3")
    client.create_bucket(Bucket=bucket)
    client.create_bucket(Bucket=f"{bucket}-watched")
    files = build_files(options.files, state)
    timings: dict[str, float] = {}
    try:
        for mode in modes:
            prefix = f"{mode}/"
            upload(client, bucket, prefix, files)
            database = f"sqlite:///{state / f'{mode}.sqlite3'}"
            upgrade_database(database)
            os.environ["EXTRACTION_DATABASE_URL"] = database
            env["EXTRACTION_DATABASE_URL"] = database
            print(f"{mode} …", flush=True)
            if mode == "bare":
                timings["bare loop (2 proc)"] = bare_loop(bucket, endpoint, [prefix + name for name, _ in files])
            elif mode == "batch":
                timings["batch runs (in-proc)"] = batch_runs(bucket, prefix)
            elif mode == "import":
                timings["bulk-import (live)"] = bulk_import_command(bucket, prefix, env)
    finally:
        server.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(state, ignore_errors=True)
        else:
            print("kept", state)
    base = timings.get("bare loop (2 proc)")
    kinds = sorted({name.rsplit(".", 1)[1] for name, _ in files})
    print(f"\n{options.files} files ({', '.join(kinds)}), {os.cpu_count()} cores, {options.instance} instance, "
          f"EXTRACTION_BACKFILL_BATCH_SIZE={os.environ.get('EXTRACTION_BACKFILL_BATCH_SIZE', '250')}")  # fmt: skip
    print(f"{'path':<22}{'seconds':>10}{'files/s':>10}{'x bare':>9}")
    for name, seconds in timings.items():
        ratio = f"{seconds / base:>9.2f}" if base else f"{'-':>9}"
        print(f"{name:<22}{seconds:>10.2f}{options.files / seconds:>10.1f}{ratio}")


if __name__ == "__main__":
    main()
