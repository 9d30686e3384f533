"""Chaos run: uploads while the daemon, the webserver, PostgreSQL and a run worker are each killed and restarted
once and S3 answers 503 for a while; then every file must have exactly one completed row, no partition more than
one successful run, no row left active. Prints what each fault cost, against a no-fault baseline of the same
waves measured in the same run on the same stack.

The harness is ``extraction_pipeline_tests/chaos_harness.py`` (the CI test ``test_chaos.py`` runs it smaller);
what runs is described there and in docs/chaos.md.

Run: .venv/bin/python benchmarks/chaos.py [--files 500] [--faults s3_503,daemon,webserver,postgres,run_worker]
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the test harness drives the stack exactly as the CI test does
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto server's access log


def main() -> int:
    from extraction_pipeline_tests.chaos_harness import FAULTS, SETTINGS, ChaosRun, dxf_bodies
    from extraction_pipeline_tests.chaos_stack import ChaosStack

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=500, help="uploads under faults (the baseline uploads as many)")
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout` or a kill still stops the stack
    faults = [name for name in args.faults.split(",") if name]
    wave_size = max(1, args.files // len(faults))

    stack = ChaosStack(SETTINGS)
    try:
        stack.start()
        with tempfile.TemporaryDirectory() as folder:
            chaos = ChaosRun(stack, dxf_bodies(Path(folder)), wave_size=wave_size, wave_timeout=900)
            report = chaos.run(faults, baseline=not args.no_baseline)
            chaos.close()
    finally:
        stack.stop()
    _print(report, faults, wave_size)
    return 1 if report.problems else 0


def _print(report, faults: list[str], wave_size: int) -> None:
    baseline = {i: w for i, w in enumerate(w for w in report.waves if w.fault == "none")}
    print(f"\n{report.files} files in waves of {wave_size}; wall {report.wall_seconds:.1f} s; runs {report.run_counts}")
    header = f"{'fault':<11} {'baseline s':>10} {'chaos s':>8} {'cost s':>7} {'ratio':>6} {'injected':>9} {'restored':>9} {'recovered':>10}"  # noqa: E501
    print(header)
    for index, fault in enumerate(faults):
        wave = report.wave(fault)
        base = baseline.get(index)
        cost = f"{wave.seconds - base.seconds:7.1f}" if base else f"{'-':>7}"
        ratio = f"{wave.seconds / base.seconds:6.2f}" if base else f"{'-':>6}"
        base_s = f"{base.seconds:10.1f}" if base else f"{'-':>10}"
        print(f"{fault:<11} {base_s} {wave.seconds:8.1f} {cost} {ratio} {_s(wave.injected_after):>9} "
              f"{_s(wave.restored_after):>9} {_s(wave.recovered_after_restore):>10}")  # fmt: skip
    webserver = next((w for w in report.waves if w.fault == "webserver"), None)
    if webserver and webserver.ui_back_after_restore is not None:
        print(f"webserver: the UI answered again {webserver.ui_back_after_restore:.1f} s after the restart")
    if baseline:
        base_total = sum(w.seconds for w in baseline.values())
        chaos_total = sum(report.wave(f).seconds for f in faults)
        print(f"{'all':<11} {base_total:10.1f} {chaos_total:8.1f} {chaos_total - base_total:7.1f} "
              f"{chaos_total / base_total:6.2f}")  # fmt: skip
    print("problems:" if report.problems else "no file lost, doubled or stuck")
    for problem in report.problems:
        print(f"  {problem}")


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    raise SystemExit(main())
