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
    from extraction_pipeline_tests.chaos_harness import FAULTS, SETTINGS, ChaosRun, dxf_bodies, format_report
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
    print(format_report(report, faults, wave_size))
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
