"""Environment variables the pipeline reads, with their defaults, in one place.

Dagster resources read them through ``EnvVar`` (see ``definitions.py``); the CLI reads them here. Values that
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
LIST_PAGES_PER_TICK_ENV = "EXTRACTION_SENSOR_LIST_PAGES_PER_TICK"
LIST_SECONDS_PER_TICK_ENV = "EXTRACTION_SENSOR_LIST_SECONDS_PER_TICK"
LIST_PAGE_SIZE_ENV = "EXTRACTION_SENSOR_LIST_PAGE_SIZE"
RETRY_BASE_ENV = "EXTRACTION_RETRY_BASE_SECONDS"
RETRY_MULTIPLIER_ENV = "EXTRACTION_RETRY_MULTIPLIER"
MAX_RETRIES_ENV = "EXTRACTION_MAX_RETRIES"
RETRY_JITTER_ENV = "EXTRACTION_RETRY_JITTER"
STUCK_AFTER_ENV = "EXTRACTION_STUCK_AFTER_SECONDS"
S3_MAX_ATTEMPTS_ENV = "EXTRACTION_S3_MAX_ATTEMPTS"
BACKFILL_BATCH_ENV = "EXTRACTION_BACKFILL_BATCH_SIZE"
LAUNCH_RUNS_ENV = "EXTRACTION_SENSOR_LAUNCH_RUNS"
BATCH_THRESHOLD_ENV = "EXTRACTION_SENSOR_BATCH_THRESHOLD"
BATCH_WORKERS_ENV = "EXTRACTION_BATCH_WORKERS"
BULK_IMPORT_BATCH_ENV = "EXTRACTION_BULK_IMPORT_BATCH_SIZE"
TIMEOUT_ENV = "EXTRACTION_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT_SECONDS = 120.0  # the sandbox stops a parser after this long
EXECUTOR_ENV = "EXTRACTION_EXECUTOR"  # in_process | celery | k8s
# The broker's consumer_timeout as configured (RabbitMQ's default: 30 min) and the expected extraction time of
# one file (OCR of a scanned sheet takes ~100 s on one core; vector PDFs and CAD files well under a second).
CELERY_CONSUMER_TIMEOUT_ENV = "EXTRACTION_CELERY_CONSUMER_TIMEOUT_SECONDS"
CELERY_SECONDS_PER_FILE_ENV = "EXTRACTION_CELERY_SECONDS_PER_FILE"
DEFAULT_CELERY_CONSUMER_TIMEOUT_SECONDS = 1800.0
DEFAULT_CELERY_SECONDS_PER_FILE = 60.0
CELERY_STEP_SHARE_OF_TIMEOUT = 0.5

DEFAULT_BUCKET = "extraction-uploads"
DEFAULT_SENSOR_INTERVAL_SECONDS = 30
DEFAULT_MAX_NEW_PER_TICK = 200
DEFAULT_LOOKBACK_SECONDS = 3600
# A listing tick stops after this many ListObjectsV2 pages or seconds, whichever comes first, and the next tick
# resumes after the last key listed: Dagster cancels a sensor evaluation after 60 s (its gRPC timeout), and a
# bucket of 100,000 objects took 99 s to list here. 20 s leaves the rest of the tick (HEADs, rows) its time.
DEFAULT_LIST_PAGES_PER_TICK = 100
DEFAULT_LIST_SECONDS_PER_TICK = 20.0
DEFAULT_LIST_PAGE_SIZE = 1000  # ListObjectsV2's maximum
DEFAULT_RETRY_BASE_SECONDS = 30.0
DEFAULT_RETRY_MULTIPLIER = 4.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_RETRY_JITTER = 0.25
DEFAULT_STUCK_AFTER_SECONDS = 900
DEFAULT_S3_MAX_ATTEMPTS = 5
# Files per backfill run (and at most per burst run). A run costs a process start, code loading and warm sandbox
# children (≈ 5 CPU-seconds here): 1,000 files in runs of 50 spent more on starting runs than on parsing.
DEFAULT_BACKFILL_BATCH = 250
# More new files than this in one tick (a burst) and the sensor's runs carry up to a batch of files each.
DEFAULT_BATCH_THRESHOLD = 8
DEFAULT_BULK_IMPORT_BATCH = 1000


def state_dir() -> Path:
    """Local state for the embedded defaults (SQLite table, dev instance): ``$EXTRACTION_STATE_DIR`` or ./.state."""
    return Path(os.environ.get(STATE_DIR_ENV) or Path.cwd() / ".state").resolve()


def default_database_url() -> str:
    return f"sqlite:///{state_dir() / 'extraction_jobs.sqlite3'}"


def database_url() -> str:
    return os.environ.get(DATABASE_URL_ENV) or default_database_url()


def bucket() -> str:
    """The watched bucket: ``$EXTRACTION_S3_BUCKET`` or ``extraction-uploads`` (CLI, code location and README)."""
    return os.environ.get(BUCKET_ENV) or DEFAULT_BUCKET


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def backfill_batch_size() -> int:
    """Files per backfill run (the asset's backfill policy) and at most per burst run.

    With ``EXTRACTION_EXECUTOR=celery`` a run is one Celery task, and it is capped by :func:`celery_step_max_files`.
    """
    size = max(1, env_int(BACKFILL_BATCH_ENV, DEFAULT_BACKFILL_BATCH))
    if (os.environ.get(EXECUTOR_ENV) or "").strip().lower() == "celery":
        return min(size, celery_step_max_files())
    return size


def celery_step_max_files() -> int:
    """Most files one Celery step may carry: its expected time stays within half the broker's consumer timeout.

    Celery acknowledges a step when it ends (``task_acks_late``, so a lost worker's step is redelivered). RabbitMQ
    closes the channel of a consumer that holds an unacknowledged message longer than its ``consumer_timeout``
    (30 min by default) and redelivers the message: a step longer than that would run again and again. The
    files are counted one after another, as on a worker with one core; half the timeout absorbs slower files.
    """
    timeout = env_float(CELERY_CONSUMER_TIMEOUT_ENV, DEFAULT_CELERY_CONSUMER_TIMEOUT_SECONDS)
    per_file = env_float(CELERY_SECONDS_PER_FILE_ENV, DEFAULT_CELERY_SECONDS_PER_FILE)
    if timeout <= 0 or per_file <= 0:
        raise ValueError(f"{CELERY_CONSUMER_TIMEOUT_ENV} and {CELERY_SECONDS_PER_FILE_ENV} must be positive")
    return max(1, int(timeout * CELERY_STEP_SHARE_OF_TIMEOUT // per_file))


def batch_max_runtime_seconds(files: int) -> int:
    """The ``dagster/max_runtime`` of a run over ``files`` files: the longest it may legitimately take.

    Run monitoring's instance-wide ``max_runtime_seconds`` (40 min in dagster.yaml) is sized for one file; a batch
    of 250 scans at ~100 s of OCR each legitimately runs for hours. Bound: every file at the sandbox's timeout on
    every attempt, one after another, plus the retry waits and ten minutes for the run's start and writes.
    """
    timeout = env_float(TIMEOUT_ENV, DEFAULT_TIMEOUT_SECONDS)
    retries = env_int(MAX_RETRIES_ENV, DEFAULT_MAX_RETRIES)
    base = env_float(RETRY_BASE_ENV, DEFAULT_RETRY_BASE_SECONDS)
    multiplier = env_float(RETRY_MULTIPLIER_ENV, DEFAULT_RETRY_MULTIPLIER)
    jitter = env_float(RETRY_JITTER_ENV, DEFAULT_RETRY_JITTER)
    waits = sum(base * multiplier**attempt for attempt in range(retries)) * (1 + jitter)
    return int(max(1, files) * timeout * (retries + 1) + waits + 600)


# The running webserver's GraphQL endpoint, for the CLI's retry, cancel and bulk import.
DAGSTER_URL_ENV = "EXTRACTION_DAGSTER_URL"
DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000/graphql"

DETECTION_ENV = "EXTRACTION_DETECTION"  # listing | sqs
SQS_QUEUE_URL_ENV = "EXTRACTION_SQS_QUEUE_URL"
SQS_WAIT_SECONDS_ENV = "EXTRACTION_SQS_WAIT_SECONDS"
SQS_VISIBILITY_ENV = "EXTRACTION_SQS_VISIBILITY_TIMEOUT_SECONDS"
DEFAULT_SQS_WAIT_SECONDS = 10
RECONCILE_INTERVAL_ENV = "EXTRACTION_RECONCILE_INTERVAL_SECONDS"
INBOX_ENV = "EXTRACTION_INBOX"  # on | off
DETECTION_MODES = ("listing", "sqs")
DEFAULT_RECONCILE_INTERVAL_SECONDS = 3600


def detection_mode() -> str:
    """``listing`` (default: list the bucket every tick) or ``sqs`` (S3 event notifications; listing reconciles)."""
    mode = (os.environ.get(DETECTION_ENV) or "listing").strip().lower()
    if mode not in DETECTION_MODES:
        raise ValueError(f"{DETECTION_ENV}={mode!r}: expected one of {', '.join(DETECTION_MODES)}")
    return mode


def sensor_interval_seconds() -> int:
    """How often the event-driven sensors (SQS, inbox) tick, and the listing in listing mode."""
    return env_int(SENSOR_INTERVAL_ENV, DEFAULT_SENSOR_INTERVAL_SECONDS)


def listing_interval_seconds() -> int:
    """The listing sensor detects every tick in listing mode; in SQS mode it only reconciles, far less often."""
    if detection_mode() == "sqs":
        return env_int(RECONCILE_INTERVAL_ENV, DEFAULT_RECONCILE_INTERVAL_SECONDS)
    return sensor_interval_seconds()


def inbox_enabled() -> bool:
    return (os.environ.get(INBOX_ENV) or "on").strip().lower() not in ("0", "off", "false", "no")


def s3_endpoint() -> str | None:
    """``AWS_ENDPOINT_URL``: any S3-compatible store (MinIO, B2, R2, moto); None is AWS itself."""
    return os.environ.get(ENDPOINT_ENV) or None


def s3_max_attempts() -> int:
    return env_int(S3_MAX_ATTEMPTS_ENV, DEFAULT_S3_MAX_ATTEMPTS)


def aws_region() -> str:
    return os.environ.get(REGION_ENV) or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def batch_workers() -> int:
    """Files a backfill run extracts at once (sandbox children): ``$EXTRACTION_BATCH_WORKERS`` or the usable cores."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, env_int(BATCH_WORKERS_ENV, cores))


# OCR of pages without a usable text layer and of raster uploads (read by extractors/ocr/config.py in the
# sandbox child; per-file options "ocr", "ocr_dpi", "ocr_max_pages", "ocr_min_confidence" override them).
OCR_ENV = "EXTRACTION_OCR"  # auto | off | always
OCR_DPI_ENV = "EXTRACTION_OCR_DPI"
OCR_MAX_PAGES_ENV = "EXTRACTION_OCR_MAX_PAGES"
OCR_MIN_CONFIDENCE_ENV = "EXTRACTION_OCR_MIN_CONFIDENCE"
OCR_THREADS_ENV = "EXTRACTION_OCR_THREADS"
DEFAULT_OCR_DPI = 300
DEFAULT_OCR_MAX_PAGES = 20
DEFAULT_OCR_MIN_CONFIDENCE = 0.5
# One inference thread per sandbox child: the run coordinator runs several files at once on a few cores.
DEFAULT_OCR_THREADS = 1
