"""One boto3 client per service and endpoint per process, for the event-driven sensors.

Building a client costs ~0.5 s on a busy machine (botocore loads the service model from JSON each time for a
fresh session), which is more than a whole SQS or inbox tick with nothing to do. ``S3Resource`` builds one when
a run or tick initializes it and another on every ``get_client()``; the listing pays that next to a full
listing, the event sensors would pay it for nothing. Clients are thread-safe and the code server process lives
across ticks, so these are cached; the settings are the ones ``S3Resource`` gets (``AWS_ENDPOINT_URL``,
``AWS_REGION``, ``EXTRACTION_S3_MAX_ATTEMPTS``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from extraction_pipeline import settings


@lru_cache(maxsize=8)
def _client(service: str, endpoint_url: str | None, region: str, max_attempts: int) -> Any:
    config = Config(retries={"max_attempts": max_attempts, "mode": "standard"})
    return boto3.session.Session().client(service, endpoint_url=endpoint_url, region_name=region, config=config)


def s3_client() -> Any:
    """The S3 client of the environment (same endpoint, region and retries as the code location's S3Resource)."""
    attempts = settings.env_int(settings.S3_MAX_ATTEMPTS_ENV, settings.DEFAULT_S3_MAX_ATTEMPTS)
    return _client("s3", os.environ.get(settings.ENDPOINT_ENV) or None, settings.aws_region(), attempts)


def sqs_client(endpoint_url: str | None, region: str | None) -> Any:
    """An SQS client; the endpoint follows ``AWS_ENDPOINT_URL`` like S3 (see ``SqsQueueResource.from_env``)."""
    return _client("sqs", endpoint_url or None, region or settings.aws_region(), 5)
