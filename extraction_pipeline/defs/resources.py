"""The resource types every domain shares: the job store, S3, the pipeline's tunables, the S3 event queue.

Each is read from the environment once, in ``from_env``, when ``extraction_pipeline.definitions`` builds the code
location; the database URL (it may hold a password) stays an ``EnvVar``, resolved at run time, hidden in the UI.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from dagster import ConfigurableResource, EnvVar

from extraction_pipeline import settings
from extraction_pipeline.clients import s3_client_for, sqs_client
from extraction_pipeline.defs.extraction.retries import RetrySchedule
from extraction_pipeline.extractors.sandbox import ExtractionLimits
from extraction_pipeline.store import JobStore


@lru_cache(maxsize=8)
def shared_store(database_url: str) -> JobStore:
    """One engine (and connection pool) per database per process, reused by every tick, step and CLI call."""
    return JobStore(database_url)


class JobStoreResource(ConfigurableResource):
    """The ``extraction_jobs`` table (SQLAlchemy URL: PostgreSQL in production, a SQLite file by default)."""

    database_url: str

    @classmethod
    def from_env(cls) -> JobStoreResource:
        if os.environ.get(settings.DATABASE_URL_ENV):
            return cls(database_url=EnvVar(settings.DATABASE_URL_ENV))
        return cls(database_url=settings.default_database_url())

    def get_store(self) -> JobStore:
        return shared_store(self.database_url)


class S3ClientResource(ConfigurableResource):
    """The S3-compatible store; its client comes from the one client factory (``clients``), cached per process."""

    endpoint_url: str | None = None  # None: AWS itself
    region_name: str | None = None
    # botocore's attempts of one call; the retry schedule (30 s, 2 min, 8 min) then retries the whole file
    max_attempts: int = settings.DEFAULT_S3_MAX_ATTEMPTS

    def get_client(self) -> Any:
        return s3_client_for(self.endpoint_url, self.region_name, self.max_attempts)

    @classmethod
    def from_env(cls) -> S3ClientResource:
        return cls(
            endpoint_url=settings.s3_endpoint(),
            region_name=settings.aws_region(),
            max_attempts=settings.s3_max_attempts(),
        )


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
    # the listing's share of one tick: it resumes where it stopped on the next tick
    list_pages_per_tick: int = settings.DEFAULT_LIST_PAGES_PER_TICK
    list_seconds_per_tick: float = settings.DEFAULT_LIST_SECONDS_PER_TICK
    list_page_size: int = settings.DEFAULT_LIST_PAGE_SIZE
    retry_base_seconds: float = settings.DEFAULT_RETRY_BASE_SECONDS
    retry_multiplier: float = settings.DEFAULT_RETRY_MULTIPLIER
    retry_jitter: float = settings.DEFAULT_RETRY_JITTER
    max_retries: int = settings.DEFAULT_MAX_RETRIES
    stuck_after_seconds: int = settings.DEFAULT_STUCK_AFTER_SECONDS
    # one file's caps in the sandbox (ExtractionLimits)
    timeout_seconds: float = settings.DEFAULT_TIMEOUT_SECONDS
    memory_bytes: int = ExtractionLimits().memory_bytes
    max_file_bytes: int = ExtractionLimits().max_file_bytes

    def retry_schedule(self) -> RetrySchedule:
        return RetrySchedule(
            base_seconds=self.retry_base_seconds,
            multiplier=self.retry_multiplier,
            jitter=self.retry_jitter,
            max_retries=self.max_retries,
        )

    def limits(self) -> ExtractionLimits:
        return ExtractionLimits(
            max_file_bytes=self.max_file_bytes, timeout_seconds=self.timeout_seconds, memory_bytes=self.memory_bytes
        )

    @classmethod
    def from_env(cls) -> ExtractionSettings:
        limits = ExtractionLimits.from_env()
        return cls(
            bucket=settings.bucket(),
            prefix=os.environ.get(settings.PREFIX_ENV, ""),
            max_new_per_tick=settings.env_int(settings.MAX_NEW_PER_TICK_ENV, settings.DEFAULT_MAX_NEW_PER_TICK),
            launch_runs=os.environ.get(settings.LAUNCH_RUNS_ENV, "true").strip().lower() not in ("0", "false", "no"),
            batch_threshold=settings.env_int(settings.BATCH_THRESHOLD_ENV, settings.DEFAULT_BATCH_THRESHOLD),
            batch_size=settings.backfill_batch_size(),
            lookback_seconds=settings.env_int(settings.LOOKBACK_ENV, settings.DEFAULT_LOOKBACK_SECONDS),
            list_pages_per_tick=max(
                1, settings.env_int(settings.LIST_PAGES_PER_TICK_ENV, settings.DEFAULT_LIST_PAGES_PER_TICK)
            ),
            list_seconds_per_tick=settings.env_float(
                settings.LIST_SECONDS_PER_TICK_ENV, settings.DEFAULT_LIST_SECONDS_PER_TICK
            ),
            list_page_size=min(
                1000, max(1, settings.env_int(settings.LIST_PAGE_SIZE_ENV, settings.DEFAULT_LIST_PAGE_SIZE))
            ),
            retry_base_seconds=settings.env_float(settings.RETRY_BASE_ENV, settings.DEFAULT_RETRY_BASE_SECONDS),
            retry_multiplier=settings.env_float(settings.RETRY_MULTIPLIER_ENV, settings.DEFAULT_RETRY_MULTIPLIER),
            retry_jitter=settings.env_float(settings.RETRY_JITTER_ENV, settings.DEFAULT_RETRY_JITTER),
            max_retries=settings.env_int(settings.MAX_RETRIES_ENV, settings.DEFAULT_MAX_RETRIES),
            stuck_after_seconds=settings.env_int(settings.STUCK_AFTER_ENV, settings.DEFAULT_STUCK_AFTER_SECONDS),
            timeout_seconds=limits.timeout_seconds,
            memory_bytes=limits.memory_bytes,
            max_file_bytes=limits.max_file_bytes,
        )


class SqsQueueResource(ConfigurableResource):
    """The queue S3 event notifications go to; empty ``queue_url`` means SQS detection is off."""

    queue_url: str = ""
    endpoint_url: str | None = None
    region_name: str | None = None
    wait_seconds: int = settings.DEFAULT_SQS_WAIT_SECONDS
    # Must outlast the time until the next tick deletes the message: otherwise it is redelivered (harmless).
    visibility_timeout_seconds: int = 4 * settings.DEFAULT_SENSOR_INTERVAL_SECONDS + 60

    def get_client(self) -> Any:
        return sqs_client(self.endpoint_url, self.region_name)

    @classmethod
    def from_env(cls) -> SqsQueueResource:
        interval = settings.env_int(settings.SENSOR_INTERVAL_ENV, settings.DEFAULT_SENSOR_INTERVAL_SECONDS)
        return cls(
            queue_url=os.environ.get(settings.SQS_QUEUE_URL_ENV, "") if settings.detection_mode() == "sqs" else "",
            endpoint_url=os.environ.get(settings.ENDPOINT_ENV) or None,
            region_name=settings.aws_region(),
            wait_seconds=settings.env_int(settings.SQS_WAIT_SECONDS_ENV, settings.DEFAULT_SQS_WAIT_SECONDS),
            visibility_timeout_seconds=settings.env_int(settings.SQS_VISIBILITY_ENV, 4 * interval + 60),
        )
