"""How long an operator waits for ``extraction-pipeline jobs list`` (target: ≤ 0.7 s), against the floor.

Each command runs through the installed entry point in a fresh process, ``--rounds`` times, on a SQLite table of
``--rows`` jobs in a temporary folder; the median and the best round are printed beside the floor (a bare
interpreter) and what one Dagster import alone costs (the CLI's ``jobs``/``upload``/``db`` commands avoid it).

Run: .venv/bin/python benchmarks/cli_startup.py [--rounds 10] [--rows 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET_SECONDS = 0.7


def _seed(database_url: str, rows: int) -> None:
    from extraction_pipeline.objects import ObjectRef, ObjectVersion
    from extraction_pipeline.store import JobStore, NewObject
    from extraction_pipeline.store.migrate import upgrade_database

    upgrade_database(database_url)
    store = JobStore(database_url)
    now = datetime.now(timezone.utc)
    versions = [ObjectVersion(ObjectRef("bench", f"in/{n}.pdf"), etag=f"e{n}", size=1000, last_modified=now)
                for n in range(rows)]  # fmt: skip
    objects = [NewObject(version, f"bench/{version.ref.key}", "pdf") for version in versions]
    store.upsert_pending(objects, max_retries=3)
    store.dispose()


def _time(command: list[str], env: dict[str, str], rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) seconds of each round: on a busy machine CPU time is the steadier one."""
    wall, cpu = [], []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--rows", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'jobs.sqlite3'}"
        _seed(database_url, args.rows)
        env = {"PATH": str(BIN), "HOME": folder, "EXTRACTION_DATABASE_URL": database_url}
        cli = str(BIN / "extraction-pipeline")
        cases = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "python -c 'import dagster'": [sys.executable, "-c", "import dagster"],
            f"jobs list ({args.rows} rows, 50 shown)": [cli, "jobs", "list"],
            "jobs list --json": [cli, "jobs", "list", "--json"],
            "jobs stats": [cli, "jobs", "stats"],
            "upload --help": [cli, "upload", "--help"],
        }
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
        print(f"{'command':<36}{'wall median':>12}{'wall best':>11}{'cpu median':>12}")
        for name, command in cases.items():
            wall, cpu = _time(command, env, args.rounds)
            print(f"{name:<36}{statistics.median(wall):>12.3f}{min(wall):>11.3f}{statistics.median(cpu):>12.3f}")
        print(f"\ntarget for `jobs list`: <= {TARGET_SECONDS} s wall (median) on an idle machine")


if __name__ == "__main__":
    main()
