"""The one factory of AWS clients (S3, SQS): one boto3 client per service and settings per process.

Building a client costs ~0.5 s on a busy machine (botocore loads the service model from JSON each time for a
fresh session), which is more than a whole SQS or inbox tick with nothing to do; ``dagster_aws``'s
``S3Resource`` builds a new one on every ``get_client()``. Clients are thread-safe and a code server process
lives across ticks and steps, so they are cached. The code location's ``s3`` resource, the event sensors and the
CLI all get theirs here; the environment's settings are ``AWS_ENDPOINT_URL``, ``AWS_REGION`` and
``EXTRACTION_S3_MAX_ATTEMPTS``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from extraction_pipeline import settings


@lru_cache(maxsize=16)
def _client(
    service: str, endpoint_url: str | None, region: str, max_attempts: int, connect_timeout: float | None
) -> Any:
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {"retries": {"max_attempts": max_attempts, "mode": "standard"}}
    if connect_timeout is not None:
        options["connect_timeout"] = connect_timeout
    session = boto3.session.Session()
    return session.client(service, endpoint_url=endpoint_url, region_name=region, config=Config(**options))


def s3_client_for(
    endpoint_url: str | None, region: str | None, max_attempts: int, *, connect_timeout: float | None = None
) -> Any:
    """An S3 client for these settings (``max_attempts`` counts botocore's attempts of one call)."""
    return _client("s3", endpoint_url or None, region or settings.aws_region(), max_attempts, connect_timeout)


def s3_client(*, max_attempts: int | None = None, connect_timeout: float | None = None) -> Any:
    """The S3 client of the environment (the endpoint, region and attempts the code location's resource gets)."""
    attempts = max_attempts if max_attempts is not None else settings.s3_max_attempts()
    return s3_client_for(settings.s3_endpoint(), settings.aws_region(), attempts, connect_timeout=connect_timeout)


def sqs_client(endpoint_url: str | None, region: str | None) -> Any:
    """An SQS client; the endpoint follows ``AWS_ENDPOINT_URL`` like S3 (see ``SqsQueueResource.from_env``)."""
    return _client("sqs", endpoint_url or None, region or settings.aws_region(), 5, None)
