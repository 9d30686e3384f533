"""The chaos run, small: 40 uploads in five waves while a run worker, S3 (503 for 8 s), the daemon, the webserver
and PostgreSQL each fail once; no file may be lost, doubled or left active (``chaos_harness``). And two
``dagster-daemon run`` processes on one instance (a rolling deploy that starts the new daemon before stopping the
old one): each upload is extracted once.

It starts its own PostgreSQL cluster (it kills it), so it needs PostgreSQL's server binaries, not the shared
server; ``benchmarks/chaos.py`` runs the same harness with 500 files and a baseline.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

import pytest
from dagster import AssetKey

from extraction_pipeline.names import ASSET_NAME
from extraction_pipeline_tests.chaos_harness import FAULTS, SETTINGS, ChaosRun, Rows, dxf_bodies, format_report
from extraction_pipeline_tests.chaos_stack import ChaosStack
from extraction_pipeline_tests.conftest import REQUIRE_POSTGRES
from extraction_pipeline_tests.live_stack import wait_for
from extraction_pipeline_tests.private_postgres import PostgresUnavailable, postgres_bin_dir

pytestmark = pytest.mark.slow
WAVE_SIZE = 8


@pytest.fixture
def chaos_stack() -> ChaosStack:
    try:
        postgres_bin_dir()
    except PostgresUnavailable as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"EXTRACTION_REQUIRE_POSTGRES=1 but {error}")
        pytest.skip(str(error))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stack = ChaosStack(SETTINGS)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def test_no_file_is_lost_doubled_or_stuck_when_every_part_fails_once(chaos_stack: ChaosStack, tmp_path: Path) -> None:
    chaos = ChaosRun(chaos_stack, dxf_bodies(tmp_path), wave_size=WAVE_SIZE, wave_timeout=420)
    try:
        report = chaos.run(FAULTS, baseline=False)
    finally:
        chaos.close()
    print(format_report(report, FAULTS, WAVE_SIZE))  # what each fault cost, in the test's output
    assert report.problems == [], "\n".join(report.problems)
    assert report.files == WAVE_SIZE * len(FAULTS)
    assert [wave.fault for wave in report.waves] == list(FAULTS)
    assert all(wave.injected_after is not None for wave in report.waves)
    # The killed run really failed, and the product's recovery (sweep, then Dagster's run retry) ran it again.
    assert report.run_counts.get("FAILURE", 0) >= 1 and report.run_counts.get("SUCCESS", 0) >= len(FAULTS)


TWO_DAEMONS_WARNING = "daemon is still sending heartbeats"
"""What Dagster logs once a daemon finds another's heartbeat (after its second heartbeat, 30 s apart)."""


def test_two_daemons_on_one_instance_extract_each_upload_once(chaos_stack: ChaosStack, tmp_path: Path) -> None:
    chaos_stack.start_server("daemon")  # a second `dagster-daemon run` beside the first, on the same instance
    body = dxf_bodies(tmp_path)
    client = chaos_stack.uploader()
    keys = [f"twice/{burst}/{n:02d}.dxf" for burst in range(4) for n in range(5)]
    for burst in range(4):  # bursts a few seconds apart: each tick of either daemon may find new files
        for index, key in enumerate(keys[burst * 5 : burst * 5 + 5]):
            client.put_object(Bucket=chaos_stack.bucket, Key=key, Body=body(burst * 5 + index))
        time.sleep(3)
    urls = [f"s3://{chaos_stack.bucket}/{key}" for key in keys]
    rows = Rows(chaos_stack.jobs_url)
    try:
        wait_for("every upload completed", lambda: _all_completed(rows, urls), 300)
        wait_for("Dagster to see two daemons", lambda: TWO_DAEMONS_WARNING in chaos_stack.server_log("daemon"), 150)
        all_rows = rows.all()
    finally:
        rows.dispose()

    assert sorted(url for url, _, _ in all_rows) == sorted(urls)
    assert {(status, has_result) for _, status, has_result in all_rows} == {("completed", True)}
    with chaos_stack.instance() as instance:
        records = instance.fetch_materializations(AssetKey(ASSET_NAME), limit=1000).records
        run_keys = Counter(run.tags.get("dagster/run_key") for run in instance.get_runs())
    print(f"{sum(run_keys.values())} runs, {len(run_keys)} run keys: {dict(run_keys)}")  # the duplicates, if any
    per_partition = Counter(record.partition_key for record in records)
    assert len(per_partition) == len(keys) and set(per_partition.values()) == {1}, per_partition


def _all_completed(rows: Rows, urls: list[str]) -> bool:
    statuses = rows.statuses(urls) or {}
    return all(statuses.get(url) == "completed" for url in urls)
