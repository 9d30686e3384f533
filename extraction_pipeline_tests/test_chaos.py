"""The chaos run, small: 40 uploads in five waves while a run worker, S3 (503 for 8 s), the daemon, the webserver
and PostgreSQL each fail once; no file may be lost, doubled or left active (``chaos_harness``).

It starts its own PostgreSQL cluster (it kills it), so it needs PostgreSQL's server binaries, not the shared
server; ``benchmarks/chaos.py`` runs the same harness with 500 files and a baseline.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from extraction_pipeline_tests.chaos_harness import FAULTS, SETTINGS, ChaosRun, dxf_bodies, format_report
from extraction_pipeline_tests.chaos_stack import ChaosStack
from extraction_pipeline_tests.conftest import REQUIRE_POSTGRES
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
