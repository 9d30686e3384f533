"""``extraction-pipeline dev``: the whole stack on one machine with embedded defaults.

A moto S3 server on loopback stands in for S3/MinIO/B2, the table is a SQLite file under the state folder,
and ``dagster dev`` runs the webserver and the daemon against a persistent instance in
``<state>/dagster_home`` — the same code location, sensor and asset as production.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from extraction_pipeline import settings

SAMPLES_DIR = Path(__file__).with_name("samples")
DEV_BUCKET = "extraction-dev"
DEV_INSTANCE_YAML = """\
# Local development instance written by `extraction-pipeline dev` (SQLite storage in this folder).
telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  runs:
    max_concurrent_runs: 2
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 60
"""
# S3 user metadata of the seeded samples: shows the PyBase record link travelling into the rows.
_SAMPLE_LINK = {"record-id": "rec_sample", "field-id": "fld_drawings"}


def dev_environment(state: Path, s3_endpoint: str) -> dict[str, str]:
    """Variables the dev stack sets unless the user already set them."""
    return {
        "DAGSTER_HOME": str(state / "dagster_home"),
        settings.ENDPOINT_ENV: s3_endpoint,
        settings.BUCKET_ENV: DEV_BUCKET,
        settings.DATABASE_URL_ENV: settings.default_database_url(),
        settings.SENSOR_INTERVAL_ENV: "5",
        "AWS_ACCESS_KEY_ID": "dev",
        "AWS_SECRET_ACCESS_KEY": "dev",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }


def prepare_instance(dagster_home: Path) -> None:
    dagster_home.mkdir(parents=True, exist_ok=True)
    instance_yaml = dagster_home / "dagster.yaml"
    if not instance_yaml.exists():
        instance_yaml.write_text(DEV_INSTANCE_YAML)


def seed_bucket(client: object, bucket: str, samples: Path = SAMPLES_DIR) -> list[str]:
    from extraction_pipeline.s3 import ensure_bucket, upload_file

    ensure_bucket(client, bucket)
    return [
        upload_file(
            client, path, bucket, f"samples/{path.name}", metadata=_SAMPLE_LINK | {"attachment-id": path.stem}
        ).file_url
        for path in sorted(samples.iterdir())
        if path.is_file() and not path.name.startswith(".")
    ]


def run_dev_stack(*, ui_port: int, s3_port: int, seed: bool) -> int:
    from moto.server import ThreadedMotoServer

    from extraction_pipeline.store.migrate import upgrade_database

    state = settings.state_dir()
    state.mkdir(parents=True, exist_ok=True)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{s3_port}"
    for name, value in dev_environment(state, endpoint).items():
        os.environ.setdefault(name, value)
    prepare_instance(Path(os.environ["DAGSTER_HOME"]))
    upgrade_database(settings.database_url())
    bucket = os.environ[settings.BUCKET_ENV]
    from extraction_pipeline.cli import _s3_client

    seeded = seed_bucket(_s3_client(), bucket) if seed else []
    command = [sys.executable, "-m", "dagster", "dev", "-m", "extraction_pipeline.definitions",
               "-h", "127.0.0.1", "-p", str(ui_port)]  # fmt: skip
    webserver = subprocess.Popen(command, env=os.environ.copy())
    _print_banner(ui_port, endpoint, bucket, seeded)
    try:
        return webserver.wait()
    except KeyboardInterrupt:
        webserver.send_signal(signal.SIGINT)
        try:
            return webserver.wait(timeout=60)
        except subprocess.TimeoutExpired:
            webserver.kill()
            return webserver.wait()
    finally:
        server.stop()


def _print_banner(ui_port: int, endpoint: str, bucket: str, seeded: list[str]) -> None:
    lines = [
        "",
        "extraction_pipeline dev stack",
        f"  Dagster UI     http://127.0.0.1:{ui_port}  (asset file_extraction, sensor s3_upload_sensor)",
        f"  S3 endpoint    {endpoint}  bucket {bucket}  ({len(seeded)} sample file(s) seeded)",
        f"  jobs table     {settings.database_url()}",
        f"  Dagster home   {os.environ['DAGSTER_HOME']}",
        "  Upload more:   AWS_ENDPOINT_URL=" + endpoint + f" extraction-pipeline upload --bucket {bucket} FILE",
        "  Watch rows:    extraction-pipeline jobs list   (same environment)",
        "  Ctrl-C stops everything started here.",
        "",
    ]
    print("\n".join(lines), flush=True)
