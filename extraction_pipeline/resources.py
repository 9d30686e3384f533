"""Dagster resources: the job store, the S3 client and the pipeline's tunables, all read through ``EnvVar``."""

import os
from functools import lru_cache
from typing import Any

from dagster import ConfigurableResource, EnvVar
from dagster_aws.s3 import S3Resource

from extraction_pipeline import settings
from extraction_pipeline.extractors.sandbox import ExtractionLimits
from extraction_pipeline.retries import RetrySchedule
from extraction_pipeline.store import JobStore


@lru_cache(maxsize=8)
def shared_store(database_url: str) -> JobStore:
    """One engine (and connection pool) per database per process, reused by every tick, step and CLI call."""
    return JobStore(database_url)


class JobStoreResource(ConfigurableResource):
    """The ``extraction_jobs`` table (SQLAlchemy URL: PostgreSQL in production, a SQLite file by default)."""

    database_url: str

    def get_store(self) -> JobStore:
        return shared_store(self.database_url)


class ExtractionSettings(ConfigurableResource):
    """Where files come from and how hard the pipeline tries: bucket, sensor batch sizes, retries, limits."""

    bucket: str
    prefix: str = ""
    max_new_per_tick: int = settings.DEFAULT_MAX_NEW_PER_TICK
    # False for a bulk import: the sensor registers files and writes pending rows, a batched backfill runs them.
    launch_runs: bool = True
    # A tick with more new files than this requests runs of up to ``batch_size`` files each (issue: bursts).
    batch_threshold: int = settings.DEFAULT_BATCH_THRESHOLD
    batch_size: int = settings.DEFAULT_BACKFILL_BATCH
    lookback_seconds: int = settings.DEFAULT_LOOKBACK_SECONDS
    retry_base_seconds: float = settings.DEFAULT_RETRY_BASE_SECONDS
    retry_multiplier: float = settings.DEFAULT_RETRY_MULTIPLIER
    retry_jitter: float = settings.DEFAULT_RETRY_JITTER
    max_retries: int = settings.DEFAULT_MAX_RETRIES
    stuck_after_seconds: int = settings.DEFAULT_STUCK_AFTER_SECONDS

    def retry_schedule(self) -> RetrySchedule:
        return RetrySchedule(
            base_seconds=self.retry_base_seconds,
            multiplier=self.retry_multiplier,
            jitter=self.retry_jitter,
            max_retries=self.max_retries,
        )

    def limits(self) -> ExtractionLimits:
        return ExtractionLimits.from_env()


def _env_or(name: str, default: Any) -> Any:
    """``EnvVar(name)`` when the variable is set (resolved at run time, hidden in the UI), else ``default``."""
    return EnvVar(name) if os.environ.get(name) else default


def build_resources() -> dict[str, Any]:
    """The resources of the code location, configured from the environment."""
    from extraction_pipeline.io_manager import ExtractionJobIOManager

    store = JobStoreResource(database_url=_env_or(settings.DATABASE_URL_ENV, settings.default_database_url()))
    return {
        "job_store": store,
        "s3": S3Resource(
            endpoint_url=_env_or(settings.ENDPOINT_ENV, None),
            region_name=_env_or(settings.REGION_ENV, None) or os.environ.get("AWS_DEFAULT_REGION"),
            # botocore's retries of one call (S3Resource.max_attempts counts retries, not attempts); our
            # schedule (30 s, 2 min, 8 min) then retries the whole attempt.
            max_attempts=settings.env_int(settings.S3_MAX_ATTEMPTS_ENV, settings.DEFAULT_S3_MAX_ATTEMPTS),
        ),
        "extraction_settings": ExtractionSettings(
            bucket=_env_or(settings.BUCKET_ENV, settings.DEFAULT_BUCKET),
            prefix=os.environ.get(settings.PREFIX_ENV, ""),
            max_new_per_tick=settings.env_int(settings.MAX_NEW_PER_TICK_ENV, settings.DEFAULT_MAX_NEW_PER_TICK),
            launch_runs=os.environ.get(settings.LAUNCH_RUNS_ENV, "true").strip().lower() not in ("0", "false", "no"),
            batch_threshold=settings.env_int(settings.BATCH_THRESHOLD_ENV, settings.DEFAULT_BATCH_THRESHOLD),
            batch_size=settings.backfill_batch_size(),
            lookback_seconds=settings.env_int(settings.LOOKBACK_ENV, settings.DEFAULT_LOOKBACK_SECONDS),
            retry_base_seconds=settings.env_float(settings.RETRY_BASE_ENV, settings.DEFAULT_RETRY_BASE_SECONDS),
            retry_multiplier=settings.env_float(settings.RETRY_MULTIPLIER_ENV, settings.DEFAULT_RETRY_MULTIPLIER),
            retry_jitter=settings.env_float(settings.RETRY_JITTER_ENV, settings.DEFAULT_RETRY_JITTER),
            max_retries=settings.env_int(settings.MAX_RETRIES_ENV, settings.DEFAULT_MAX_RETRIES),
            stuck_after_seconds=settings.env_int(settings.STUCK_AFTER_ENV, settings.DEFAULT_STUCK_AFTER_SECONDS),
        ),
        "extraction_jobs_io_manager": ExtractionJobIOManager(job_store=store),
    }
