"""Bulk-import overhead: the whole pipeline vs a bare loop over the same extractors, side by side in one run.

The future target for backfills is ≤ 1.5x a bare loop. This measures where the pipeline stands today:

  bare loop      for each file: extractor.extract(path) in this process (no S3, no Dagster, no table)
  sandboxed loop for each file: extract_file(path) through the warm sandbox child (what the CLI does)
  per-file runs  upload to S3 (moto server on loopback) → sensor ticks → one Dagster run per file → rows
  backfill       upload → sensor tick registers partitions + pending rows → backfill runs of
                 EXTRACTION_BACKFILL_BATCH_SIZE files each (BackfillPolicy.multi_run) → rows

Run: .venv/bin/python benchmarks/bulk_import.py [--files 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "extraction_pipeline" / "samples"
sys.path.insert(0, str(REPO))  # the test harness drives the pipeline exactly as the tests do


def _files(count: int) -> list[Path]:
    samples = sorted(p for p in SAMPLES.iterdir() if p.is_file())
    return [samples[i % len(samples)] for i in range(count)]


def bare_loop(files: list[Path]) -> float:
    from extraction_pipeline.extractors import detect_format
    from extraction_pipeline.extractors.registry import extractor_for
    from extraction_pipeline.extractors.schema import SourceInfo

    for path in files[:4]:  # warm the imports, as a long-running loop would be
        extractor_for(detect_format(path, path.name))
    started = time.perf_counter()
    for path in files:
        source = SourceInfo(filename=path.name, size=path.stat().st_size, sha256="0" * 64)
        extractor_for(detect_format(path, path.name)).extract(path, source, {})
    return time.perf_counter() - started


def sandboxed_loop(files: list[Path]) -> float:
    from extraction_pipeline.extractors import extract_file

    extract_file(files[0], filename=files[0].name)  # start the warm child
    started = time.perf_counter()
    for path in files:
        extract_file(path, filename=path.name)
    return time.perf_counter() - started


def pipeline(files: list[Path], *, batched: bool) -> float:
    import boto3
    from dagster import instance_for_test, materialize
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    state = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{host}:{port}", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1", EXTRACTION_S3_BUCKET=bucket,
        EXTRACTION_DATABASE_URL=f"sqlite:///{state / 'jobs.sqlite3'}", EXTRACTION_SENSOR_MAX_NEW_PER_TICK="1000",
    )  # fmt: skip
    from extraction_pipeline.asset import BATCH_SIZE, file_extraction
    from extraction_pipeline.store.migrate import upgrade_database
    from extraction_pipeline_tests.harness import Pipeline

    upgrade_database(os.environ["EXTRACTION_DATABASE_URL"])
    client = boto3.client("s3")
    client.create_bucket(Bucket=bucket)
    try:
        with instance_for_test() as instance:
            for i, path in enumerate(files):  # the existing store: not part of the import's time
                client.put_object(Bucket=bucket, Key=f"import/{i:05d}-{path.name}", Body=path.read_bytes())
            started = time.perf_counter()
            runner = Pipeline(instance)
            for tick in runner.ticks_until_idle():
                if not batched:
                    for result in runner.run_requests(tick.run_requests):
                        assert result.success, result.run_id
            if batched:
                keys = instance.get_dynamic_partitions("extraction_files")
                for start in range(0, len(keys), BATCH_SIZE):
                    batch = keys[start : start + BATCH_SIZE]
                    tags = {"dagster/asset_partition_range_start": batch[0],
                            "dagster/asset_partition_range_end": batch[-1]}  # fmt: skip
                    assert materialize([file_extraction], resources=runner.resources, instance=instance,
                                       tags=tags).success  # fmt: skip
            return time.perf_counter() - started
    finally:
        server.stop()
        shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=40)
    count = parser.parse_args().files
    files = _files(count)
    timings = {
        "bare loop": bare_loop(files),
        "sandboxed loop": sandboxed_loop(files),
        "per-file runs": pipeline(files, batched=False),
        "backfill": pipeline(files, batched=True),
    }
    base = timings["bare loop"]
    print(f"{count} files ({', '.join(sorted({p.suffix for p in files}))}), machine: {os.cpu_count()} cores")
    print(f"{'path':<16}{'seconds':>10}{'files/s':>10}{'x bare':>9}")
    for name, seconds in timings.items():
        print(f"{name:<16}{seconds:>10.2f}{count / seconds:>10.1f}{seconds / base:>9.1f}")


if __name__ == "__main__":
    main()
