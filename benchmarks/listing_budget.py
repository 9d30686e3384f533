"""Listing ticks against Dagster's 60 s sensor timeout: tick durations with the page/time budget at large buckets.

The bucket holds ``size`` objects already registered (rows and partitions, last modified two days ago, outside
the lookback window) plus ``--new`` fresh uploads at the end of the key order. The listing sensor then ticks
until a pass over the bucket is complete and the new uploads are registered; printed: each tick's duration and
pages, the pass's ticks, and (``--unbounded``) one tick with no budget, the listing as it was, for comparison.
Real moto server S3 over HTTP, SQLite table and instance (the setup of ``detection_ticks.py``).

Run: .venv/bin/python benchmarks/listing_budget.py [--sizes 100000] [--new 100] [--unbounded]
Not a CI test: the numbers depend on the machine (moto sorts the whole bucket for every page).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from detection_ticks import Bench, _start_moto  # noqa: E402  (the same bucket, table and instance set-up)

_GRPC_TIMEOUT_SECONDS = 60  # Dagster's default sensor evaluation timeout (DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS)


def _pass(bench: Bench, new: int) -> list[tuple[float, int, str]]:
    """Tick the listing until its pass is complete; (seconds, run requests, skip message or '') per tick."""
    from extraction_pipeline.defs.detection.listing_sensor import ListingCursor

    for index in range(new):
        bench.s3.put_object(Bucket=bench.bucket, Key=f"zz-new/{index:04d}.dxf", Body=f"n{index}".encode())
    driver = bench.drivers["listing"]
    ticks: list[tuple[float, int, str]] = []
    while True:
        started = time.perf_counter()
        tick = driver.tick()
        message = getattr(tick.result, "skip_message", "") or ""
        ticks.append((time.perf_counter() - started, len(tick.run_requests), message))
        if ListingCursor.parse(driver.cursor).resume_after is None:
            return ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--unbounded", action="store_true", help="also time one tick without a budget")
    args = parser.parse_args()
    os.environ["EXTRACTION_DETECTION"] = "listing"
    endpoint = _start_moto()
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="listing-budget-") as workdir:
            bench = Bench(endpoint, size, Path(workdir))
            os.environ["EXTRACTION_DETECTION"] = "listing"
            bench.drivers = bench._drivers()
            ticks = _pass(bench, args.new)
            durations = [seconds for seconds, _runs, _message in ticks]
            print(f"{size:,} objects (+{args.new} new): a pass of {len(ticks)} tick(s), "
                  f"longest {max(durations):.1f} s (timeout {_GRPC_TIMEOUT_SECONDS} s), "
                  f"{sum(runs for _s, runs, _m in ticks)} run request(s)")  # fmt: skip
            for number, (seconds, runs, message) in enumerate(ticks, 1):
                print(f"  tick {number}: {seconds:.1f} s, {runs} run request(s) {message}")
            if args.unbounded:
                os.environ["EXTRACTION_SENSOR_LIST_PAGES_PER_TICK"] = "1000000"
                os.environ["EXTRACTION_SENSOR_LIST_SECONDS_PER_TICK"] = "1e9"
                bench.drivers = bench._drivers()
                started = time.perf_counter()
                bench.drivers["listing"].tick()
                print(f"  unbounded (the listing before the budget): one tick {time.perf_counter() - started:.1f} s")
                del (
                    os.environ["EXTRACTION_SENSOR_LIST_PAGES_PER_TICK"],
                    os.environ["EXTRACTION_SENSOR_LIST_SECONDS_PER_TICK"],
                )


if __name__ == "__main__":
    main()
