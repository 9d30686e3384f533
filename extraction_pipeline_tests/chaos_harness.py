"""The chaos run: waves of uploads while each part of the stack fails once; then nothing lost, doubled or stuck.

One wave per fault. A wave is ``wave_size`` small DXF drawings put at once (distinct contents, so distinct ETags);
the fault is injected at a moment that hurts (below), lasts ``down_seconds`` (a process is restarted, S3 answers
again), and the wave's clock stops when every file of it is ``completed``. A baseline is the same waves with no
fault, on the same stack, before the faults: a fault's cost is its wave's time minus the baseline wave's.

| fault | injected | restored |
| --- | --- | --- |
| ``s3_503`` | a file of the wave is ``processing`` | the proxy forwards again |
| ``daemon`` | right after the upload (before the sensor saw it) | a new ``dagster-daemon run`` |
| ``webserver`` | right after the upload | a new ``dagster-webserver`` |
| ``postgres`` | a file of the wave is ``processing`` | ``pg_ctl start`` |
| ``run_worker`` | a file of the wave is held mid-step | never: the product's recovery must finish the files |

The checks (``ChaosReport.problems``, empty when all is well): every uploaded file has exactly one row, and it is
``completed`` with a result; no row is left pending/processing/retrying; no partition (one file, one ETag) was
materialized by more than one successful run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterRunStatus, RunsFilter
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from extraction_pipeline.names import (
    EXTRACTION_PARTITIONS_NAME,
    JOB_NAME,
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
)
from extraction_pipeline_tests.chaos_stack import ChaosStack

FAULTS = ("run_worker", "s3_503", "daemon", "webserver", "postgres")
HELD_FILE = "held-by-chaos.dxf"
_TRIGGER = {"s3_503": "processing", "postgres": "processing", "run_worker": "held"}
ACTIVE = ("pending", "processing", "retrying")
# The pipeline's documented tunables, set for a run dominated by orchestration that still ends in minutes:
# a sensor tick every 5 s (as `make dev`), batch runs from 5 files on, a short retry base, and a crashed worker's
# rows swept 150 s after their attempt started (the sweep's bound must stay above EXTRACTION_TIMEOUT_SECONDS, 120).
SETTINGS = {
    "EXTRACTION_SENSOR_INTERVAL_SECONDS": "5",
    "EXTRACTION_SENSOR_BATCH_THRESHOLD": "4",
    "EXTRACTION_RETRY_BASE_SECONDS": "5",
    "EXTRACTION_STUCK_AFTER_SECONDS": "150",
    "EXTRACTION_S3_MAX_ATTEMPTS": "3",
    "EXTRACTION_BATCH_WORKERS": "1",  # one sandbox child per run: tiny files, and the machine's cores are shared
}


@dataclass
class WaveResult:
    fault: str  # "none" for a baseline wave
    files: int
    seconds: float  # upload until every file of the wave is completed
    injected_after: float | None = None  # seconds after the upload
    restored_after: float | None = None
    recovered_after_restore: float | None = None  # fault over until the wave's last file completed
    ui_back_after_restore: float | None = None  # webserver: restarted until it answered again


@dataclass
class ChaosReport:
    waves: list[WaveResult] = field(default_factory=list)
    files: int = 0
    wall_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    run_counts: dict[str, int] = field(default_factory=dict)

    def wave(self, fault: str) -> WaveResult:
        return next(w for w in self.waves if w.fault == fault)


class Rows:
    """Reads the ``extraction_jobs`` table; a read that fails (the database is down) returns nothing new."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, pool_pre_ping=True)

    def statuses(self, file_urls: Sequence[str]) -> dict[str, str] | None:
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    text("select file_url, status from extraction_jobs where file_url = any(:urls)"),
                    {"urls": list(file_urls)},
                ).all()
        except SQLAlchemyError:
            return None
        return {url: status for url, status in rows}

    def all(self) -> list[tuple[str, str, bool]]:
        with self.engine.connect() as connection:
            return [tuple(r) for r in connection.execute(
                text("select file_url, status, result is not null from extraction_jobs"))]  # fmt: skip

    def dispose(self) -> None:
        self.engine.dispose()


class ChaosRun:
    def __init__(self, stack: ChaosStack, body: Callable[[int], bytes], *, wave_size: int,
                 wave_timeout: float = 300.0) -> None:  # fmt: skip
        self.stack = stack
        self.body = body
        self.wave_size = wave_size
        self.wave_timeout = wave_timeout
        self.rows = Rows(stack.jobs_url)
        self.report = ChaosReport()
        self.file_urls: list[str] = []
        self._counter = 0
        self._background: list[threading.Thread] = []

    # --- waves ---------------------------------------------------------------------------------------
    def run(self, faults: Sequence[str], *, baseline: bool) -> ChaosReport:
        started = time.monotonic()
        if baseline:
            for _ in faults:
                self.report.waves.append(self._wave(None))
        for fault in faults:
            self.report.waves.append(self._wave(fault))
        for thread in self._background:
            thread.join()
        self.report.wall_seconds = time.monotonic() - started
        self.report.files = len(self.file_urls)
        self._verify()
        return self.report

    def _upload(self, keys: list[str]) -> None:
        client = self.stack.uploader()
        bodies = {key: self.body(self._counter + i) for i, key in enumerate(keys)}
        self._counter += len(keys)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda key: client.put_object(Bucket=self.stack.bucket, Key=key, Body=bodies[key]), keys))

    def _wave(self, fault: str | None) -> WaveResult:
        name = fault or "none"
        index = len(self.report.waves)
        keys = [f"chaos/{index:02d}-{name}/{i:04d}.dxf" for i in range(self.wave_size)]
        if fault == "run_worker":
            keys[-1] = f"chaos/{index:02d}-{name}/{HELD_FILE}"
            self.stack.hold(HELD_FILE)
        urls = [f"s3://{self.stack.bucket}/{key}" for key in keys]
        self.file_urls += urls
        start = time.monotonic()
        self._upload(keys)
        result = WaveResult(name, len(keys), 0.0)
        if fault and self._await_trigger(fault, urls, start):
            result.injected_after = time.monotonic() - start
            self._inject(fault)
            result.restored_after = time.monotonic() - start
        if fault == "run_worker":
            # Its recovery waits for the stuck-row sweep (minutes): the next faults go on meanwhile.
            thread = threading.Thread(target=self._finish_wave, args=(result, urls, start), daemon=True)
            thread.start()
            self._background.append(thread)
        elif fault == "webserver" and result.restored_after is not None:
            ui = threading.Thread(target=self._await_ui, args=(result, start), daemon=True)
            ui.start()
            self._finish_wave(result, urls, start)
            ui.join()
        else:
            self._finish_wave(result, urls, start)
        return result

    def _await_ui(self, result: WaveResult, start: float) -> None:
        self.stack.wait_for_webserver()
        result.ui_back_after_restore = time.monotonic() - start - (result.restored_after or 0.0)

    def _finish_wave(self, result: WaveResult, urls: list[str], start: float) -> None:
        result.seconds = self._await_completed(urls, start) - start
        if result.restored_after is not None:
            result.recovered_after_restore = result.seconds - result.restored_after

    def _await_trigger(self, fault: str, urls: list[str], start: float) -> bool:
        trigger = _TRIGGER.get(fault, "upload")
        deadline = start + self.wave_timeout
        while time.monotonic() < deadline:
            if trigger == "upload":
                return True
            if trigger == "held" and self.stack.held_worker(HELD_FILE):
                return True
            statuses = self.rows.statuses(urls) if trigger == "processing" else None
            if statuses and "processing" in statuses.values():
                return True
            time.sleep(0.2)
        self.report.problems.append(f"{fault}: the wave never reached the moment of injection ({trigger})")
        return False

    def _inject(self, fault: str) -> None:
        down = 8.0 if fault == "s3_503" else 3.0
        stack = self.stack
        if fault == "s3_503":
            stack.proxy.slow_down(True)  # type: ignore[union-attr]
            time.sleep(down)
            stack.proxy.slow_down(False)  # type: ignore[union-attr]
        elif fault in ("daemon", "webserver"):
            stack.kill_server(fault)
            time.sleep(down)
            stack.start_server(fault)
        elif fault == "postgres":
            stack.postgres.kill()  # type: ignore[union-attr]
            time.sleep(down)
            stack.postgres.restart()  # type: ignore[union-attr]
        elif fault == "run_worker":
            stack.kill_worker(HELD_FILE)
        else:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")

    def _await_completed(self, urls: list[str], start: float) -> float:
        deadline = start + self.wave_timeout
        while time.monotonic() < deadline:
            statuses = self.rows.statuses(urls)
            if statuses is not None and len(statuses) == len(urls) and set(statuses.values()) == {"completed"}:
                return time.monotonic()
            time.sleep(0.5)
        statuses = self.rows.statuses(urls) or {}
        left = {url: statuses.get(url, "no row") for url in urls if statuses.get(url) != "completed"}
        self.report.problems.append(f"{len(left)} file(s) not completed after {self.wave_timeout:.0f} s: {left}")
        return time.monotonic()

    # --- the checks ----------------------------------------------------------------------------------
    def _verify(self) -> None:
        rows = self.rows.all()
        by_url: dict[str, list[tuple[str, bool]]] = {}
        for url, status, has_result in rows:
            by_url.setdefault(url, []).append((status, has_result))
        for url in self.file_urls:
            found = by_url.get(url, [])
            if len(found) != 1:
                self.report.problems.append(f"{url}: {len(found)} rows")
            elif found[0] != ("completed", True):
                self.report.problems.append(f"{url}: {found[0][0]} (result stored: {found[0][1]})")
        stuck = [url for url, status, _ in rows if status in ACTIVE]
        if stuck:
            self.report.problems.append(f"{len(stuck)} row(s) left active: {stuck[:5]}")
        self._verify_runs()

    def _verify_runs(self) -> None:
        with self.stack.instance() as instance:
            _await_runs_settled(instance)
            runs = instance.get_runs(RunsFilter(job_name=JOB_NAME))
            order = instance.get_dynamic_partitions(EXTRACTION_PARTITIONS_NAME)
        position = {key: i for i, key in enumerate(order)}
        successes: dict[str, int] = {}
        for run in runs:
            self.report.run_counts[run.status.value] = self.report.run_counts.get(run.status.value, 0) + 1
            if run.status is DagsterRunStatus.SUCCESS:
                for key in _partitions_of(run.tags, order, position):
                    successes[key] = successes.get(key, 0) + 1
        doubled = {key: count for key, count in successes.items() if count > 1}
        if doubled:
            self.report.problems.append(f"{len(doubled)} partition(s) with more than one successful run: {doubled}")

    def close(self) -> None:
        self.rows.dispose()


def _partitions_of(tags: dict[str, str], order: list[str], position: dict[str, int]) -> list[str]:
    if PARTITION_TAG in tags:
        return [tags[PARTITION_TAG]]
    first, last = tags.get(PARTITION_RANGE_START_TAG), tags.get(PARTITION_RANGE_END_TAG)
    if first in position and last in position:
        return order[position[first] : position[last] + 1]
    return []


def _await_runs_settled(instance, timeout: float = 120.0) -> None:
    """Let every queued or started run end, so a late duplicate cannot slip past the checks."""
    active = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
              DagsterRunStatus.STARTED]  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and instance.get_runs_count(RunsFilter(statuses=active)):
        time.sleep(1.0)


def dxf_bodies(folder: Path) -> Callable[[int], bytes]:
    """Small DXF drawings, each with its own drawing number (same size, distinct ETags)."""
    from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf

    marker = "CHAOS-0000000"
    template = build_drawing_dxf(folder / "template.dxf", drawing_number=marker).read_bytes()
    lock = threading.Lock()

    def body(number: int) -> bytes:
        with lock:
            return template.replace(marker.encode(), f"CHAOS-{number:07d}".encode())

    return body


def format_report(report: ChaosReport, faults: Sequence[str], wave_size: int) -> str:
    """The waves side by side: baseline and chaos seconds, the fault's cost, and when it was injected/restored."""
    baseline = [w for w in report.waves if w.fault == "none"]
    head = f"{report.files} files in waves of {wave_size}; wall {report.wall_seconds:.1f} s; runs: {report.run_counts}"
    lines = [head,
             f"{'fault':<11} {'baseline s':>10} {'chaos s':>8} {'cost s':>7} {'ratio':>6} {'injected':>9} "
             f"{'restored':>9} {'recovered':>10}"]  # fmt: skip
    for index, fault in enumerate(faults):
        wave = report.wave(fault)
        base = baseline[index] if index < len(baseline) else None
        cost = f"{wave.seconds - base.seconds:7.1f}" if base else f"{'-':>7}"
        ratio = f"{wave.seconds / base.seconds:6.2f}" if base else f"{'-':>6}"
        base_s = f"{base.seconds:10.1f}" if base else f"{'-':>10}"
        lines.append(f"{fault:<11} {base_s} {wave.seconds:8.1f} {cost} {ratio} {_s(wave.injected_after):>9} "
                     f"{_s(wave.restored_after):>9} {_s(wave.recovered_after_restore):>10}")  # fmt: skip
    if baseline:
        base_total = sum(w.seconds for w in baseline)
        chaos_total = sum(report.wave(f).seconds for f in faults)
        lines.append(f"{'all waves':<11} {base_total:10.1f} {chaos_total:8.1f} {chaos_total - base_total:7.1f} "
                     f"{chaos_total / base_total:6.2f}")  # fmt: skip
    webserver = next((w for w in report.waves if w.fault == "webserver"), None)
    if webserver and webserver.ui_back_after_restore is not None:
        lines.append(f"webserver: the UI answered again {webserver.ui_back_after_restore:.1f} s after the restart")
    lines.append("problems:" if report.problems else "no file lost, doubled or stuck")
    lines += [f"  {problem}" for problem in report.problems]
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
