"""Refresh the README's pictures of the Dagster UI: start the dev stack, let it extract the samples, capture pages.

Needs headless Chromium. On Debian/Ubuntu: ``sudo apt-get install -y chromium`` (the binary is ``chromium``;
``chromium-browser``, ``google-chrome`` or ``$CHROMIUM`` work too). Then, from the project folder:

    make screenshots            # or: .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

The stack runs in a temporary state folder on free ports (nothing of an already running ``make dev`` is
touched), seeded with ``extraction_pipeline/samples``; the script waits until every sample's row is final,
captures the asset's partitions page and the materialization of ``flange.pdf`` (title block table, counts),
and stops the stack.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SHOWCASE_FILE = "samples/flange.pdf"  # its materialization has a title block table
FINAL = {"completed", "failed"}
T = TypeVar("T")


def find_chromium() -> str:
    for name in ([os.environ["CHROMIUM"]] if os.environ.get("CHROMIUM") else []) + list(CHROMIUM_NAMES):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("error: no headless Chromium found: install it with `sudo apt-get install -y chromium` "
             "(Debian/Ubuntu), or set CHROMIUM to its binary")  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(what: str, probe: Callable[[], T], timeout: float, interval: float = 2.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    sys.exit(f"error: timed out after {timeout:.0f} s waiting for {what}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def rows(env: dict[str, str]) -> dict[str, str]:
    listed = subprocess.run([str(BIN / "extraction-pipeline"), "jobs", "list", "--json"], env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    return {row["file_url"]: row["status"] for row in json.loads(listed.stdout)} if listed.returncode == 0 else {}


def capture(chromium: str, url: str, path: Path, *, height: int) -> None:
    command = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--force-device-scale-factor=1", f"--window-size=1600,{height}", "--virtual-time-budget=20000",
               f"--screenshot={path}", url]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    print(f"captured {url} -> {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--timeout", type=float, default=900, help="Seconds to wait for the samples.")
    args = parser.parse_args()
    chromium = find_chromium()
    args.out.mkdir(parents=True, exist_ok=True)
    ui_port, s3_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="extraction-screenshots-") as folder:
        state = Path(folder) / ".state"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTION_", "AWS_", "DAGSTER_"))}
        env["EXTRACTION_STATE_DIR"] = str(state)
        log = (Path(folder) / "dev.log").open("wb")
        stack = subprocess.Popen([str(BIN / "extraction-pipeline"), "dev", "--port", str(ui_port), "--s3-port",
                                  str(s3_port)], env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)  # fmt: skip
        try:
            ui = f"http://127.0.0.1:{ui_port}"
            wait_for("the Dagster UI", lambda: answers(f"{ui}/server_info"), 300)
            jobs_env = env | {"EXTRACTION_DATABASE_URL": f"sqlite:///{state / 'extraction_jobs.sqlite3'}"}
            samples = len([p for p in (REPO / "extraction_pipeline" / "samples").iterdir() if p.is_file()])
            final = wait_for("every sample to be extracted", lambda: (r := rows(jobs_env)) and len(r) >= samples
                             and set(r.values()) <= FINAL and r, args.timeout)  # fmt: skip
            print(f"{len(final)} sample(s) final: {sorted(set(final.values()))}")
            partition = quote(f"extraction-uploads/{SHOWCASE_FILE}", safe="")
            capture(chromium, f"{ui}/assets/file_extraction?view=partitions", args.out / "partitions.png", height=1000)
            capture(chromium, f"{ui}/assets/file_extraction?view=partitions&partition={partition}",
                    args.out / "materialization.png", height=1400)  # fmt: skip
        finally:
            os.killpg(stack.pid, signal.SIGINT)
            try:
                stack.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
                stack.wait()
            log.close()


if __name__ == "__main__":
    main()
