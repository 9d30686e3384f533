"""Environment variables the pipeline reads, with their defaults, in one place.

Dagster resources read them through ``EnvVar`` (see ``resources.py``); the CLI reads them here. Values that
shape definitions (sensor interval, retry policy) are read when the code location loads.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR_ENV = "EXTRACTION_STATE_DIR"
DATABASE_URL_ENV = "EXTRACTION_DATABASE_URL"
BUCKET_ENV = "EXTRACTION_S3_BUCKET"
PREFIX_ENV = "EXTRACTION_S3_PREFIX"
ENDPOINT_ENV = "AWS_ENDPOINT_URL"
REGION_ENV = "AWS_REGION"
SENSOR_INTERVAL_ENV = "EXTRACTION_SENSOR_INTERVAL_SECONDS"
MAX_NEW_PER_TICK_ENV = "EXTRACTION_SENSOR_MAX_NEW_PER_TICK"
LOOKBACK_ENV = "EXTRACTION_SENSOR_LOOKBACK_SECONDS"
RETRY_BASE_ENV = "EXTRACTION_RETRY_BASE_SECONDS"
RETRY_MULTIPLIER_ENV = "EXTRACTION_RETRY_MULTIPLIER"
MAX_RETRIES_ENV = "EXTRACTION_MAX_RETRIES"
RETRY_JITTER_ENV = "EXTRACTION_RETRY_JITTER"
STUCK_AFTER_ENV = "EXTRACTION_STUCK_AFTER_SECONDS"
S3_MAX_ATTEMPTS_ENV = "EXTRACTION_S3_MAX_ATTEMPTS"
BACKFILL_BATCH_ENV = "EXTRACTION_BACKFILL_BATCH_SIZE"
LAUNCH_RUNS_ENV = "EXTRACTION_SENSOR_LAUNCH_RUNS"

DEFAULT_SENSOR_INTERVAL_SECONDS = 30
DEFAULT_MAX_NEW_PER_TICK = 200
DEFAULT_LOOKBACK_SECONDS = 3600
DEFAULT_RETRY_BASE_SECONDS = 30.0
DEFAULT_RETRY_MULTIPLIER = 4.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_RETRY_JITTER = 0.25
DEFAULT_STUCK_AFTER_SECONDS = 900
DEFAULT_S3_MAX_ATTEMPTS = 5
DEFAULT_BACKFILL_BATCH = 50


def state_dir() -> Path:
    """Local state for the embedded defaults (SQLite table, dev instance): ``$EXTRACTION_STATE_DIR`` or ./.state."""
    return Path(os.environ.get(STATE_DIR_ENV) or Path.cwd() / ".state").resolve()


def default_database_url() -> str:
    return f"sqlite:///{state_dir() / 'extraction_jobs.sqlite3'}"


def database_url() -> str:
    return os.environ.get(DATABASE_URL_ENV) or default_database_url()


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def aws_region() -> str:
    return os.environ.get(REGION_ENV) or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
