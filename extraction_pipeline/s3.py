"""The S3 calls the pipeline makes (list, head, download, upload), with botocore errors classified.

Any S3-compatible store works: the client comes from ``clients`` (the ``s3`` resource, the sensors, the CLI) with
the endpoint ``AWS_ENDPOINT_URL`` (MinIO, Backblaze B2, Cloudflare R2, moto in tests).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from extraction_pipeline.errors import (
    ExtractionError,
    FileTooLargeError,
    ObjectNotFoundError,
    PermanentError,
    StorageUnavailableError,
)
from extraction_pipeline.objects import ObjectRef, ObjectVersion, RecordLink

# S3 user metadata (x-amz-meta-*) PyBase sets on an attachment upload. Keys arrive lower-cased.
META_RECORD_ID = "record-id"
META_FIELD_ID = "field-id"
META_ATTACHMENT_ID = "attachment-id"
META_OPTION_PREFIX = "extraction-"  # x-amz-meta-extraction-engine: werk24 → options {"engine": "werk24"}

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_DENIED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


def classify_s3_error(error: Exception, ref: ObjectRef | None = None) -> ExtractionError:
    """Map a boto error to our typed errors: missing/denied objects are permanent, the rest retryable."""
    where = ref.file_url if ref else "the bucket"
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in _NOT_FOUND:
            return ObjectNotFoundError(f"{where} does not exist (deleted after it was detected?)")
        if code in _DENIED:
            return PermanentError(f"access to {where} denied ({code}): check the credentials and bucket policy")
        return StorageUnavailableError(f"S3 error on {where}: {code or error}")
    return StorageUnavailableError(f"S3 unreachable for {where}: {error}")


def _parse_version(bucket: str, item: Mapping[str, Any]) -> ObjectVersion:
    return ObjectVersion(
        ref=ObjectRef(bucket, item["Key"]),
        etag=str(item["ETag"]).strip('"'),
        size=int(item["Size"]),
        last_modified=item["LastModified"],
    )


def list_objects(client: Any, bucket: str, prefix: str = "") -> Iterator[ObjectVersion]:
    """Every object under ``prefix``, following ListObjectsV2 pagination (1,000 keys per page)."""
    for page in list_object_pages(client, bucket, prefix):
        yield from page.versions


@dataclass(frozen=True)
class ListedPage:
    """One ListObjectsV2 page: its objects (folder markers left out) and the last key it held, to resume after."""

    versions: list[ObjectVersion]
    last_key: str | None
    truncated: bool  # more pages follow


def list_object_pages(
    client: Any, bucket: str, prefix: str = "", *, start_after: str | None = None, page_size: int = 1000
) -> Iterator[ListedPage]:
    """The pages under ``prefix`` in key order, from just after ``start_after`` (S3 resumes after any key, even
    one deleted since, unlike a continuation token that expires)."""
    arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "PaginationConfig": {"PageSize": page_size}}
    if start_after:
        arguments["StartAfter"] = start_after
    try:
        for page in client.get_paginator("list_objects_v2").paginate(**arguments):
            contents = page.get("Contents", [])
            yield ListedPage(
                versions=[_parse_version(bucket, item) for item in contents if not item["Key"].endswith("/")],
                last_key=contents[-1]["Key"] if contents else None,
                truncated=bool(page.get("IsTruncated")),
            )
    except (BotoCoreError, ClientError) as error:
        raise classify_s3_error(error) from error


def link_and_options(metadata: Mapping[str, str]) -> tuple[RecordLink, dict[str, str]]:
    lowered = {key.lower(): value for key, value in metadata.items()}
    link = RecordLink(
        record_id=lowered.get(META_RECORD_ID) or None,
        field_id=lowered.get(META_FIELD_ID) or None,
        attachment_id=lowered.get(META_ATTACHMENT_ID) or None,
    )
    options = {
        key[len(META_OPTION_PREFIX) :].replace("-", "_"): value
        for key, value in lowered.items()
        if key.startswith(META_OPTION_PREFIX)
    }
    return link, options


def _head(client: Any, ref: ObjectRef) -> dict[str, Any]:
    try:
        return client.head_object(Bucket=ref.bucket, Key=ref.key)
    except (BotoCoreError, ClientError) as error:
        raise classify_s3_error(error, ref) from error


def with_user_metadata(client: Any, version: ObjectVersion) -> ObjectVersion:
    """The same version with its record link and per-file options from the object's user metadata."""
    link, options = link_and_options(_head(client, version.ref).get("Metadata", {}))
    return ObjectVersion(version.ref, version.etag, version.size, version.last_modified, link, options)


def head_object(client: Any, ref: ObjectRef) -> ObjectVersion:
    head = _head(client, ref)
    link, options = link_and_options(head.get("Metadata", {}))
    return ObjectVersion(
        ref, str(head["ETag"]).strip('"'), int(head["ContentLength"]), head["LastModified"], link, options
    )


def download_object(
    client: Any, ref: ObjectRef, destination: Path, *, max_bytes: int
) -> tuple[str, int, dict[str, str]]:
    """Stream the object into ``destination`` (a private temp file); returns (etag, size, user metadata).

    The size cap is checked on the response header before any byte is read, and again while streaming
    (a store may not send Content-Length).
    """
    try:
        response = client.get_object(Bucket=ref.bucket, Key=ref.key)
        size = int(response.get("ContentLength", 0))
        if size > max_bytes:
            response["Body"].close()
            raise FileTooLargeError(f"{ref.filename} is {size:,} bytes, over the {max_bytes:,}-byte limit")
        written = 0
        with destination.open("wb") as out:
            for chunk in response["Body"].iter_chunks(1024 * 1024):
                written += len(chunk)
                if written > max_bytes:
                    raise FileTooLargeError(f"{ref.filename} is over the {max_bytes:,}-byte limit")
                out.write(chunk)
        return str(response["ETag"]).strip('"'), written, dict(response.get("Metadata") or {})
    except (BotoCoreError, ClientError) as error:
        raise classify_s3_error(error, ref) from error


def upload_file(
    client: Any, path: Path, bucket: str, key: str, *, metadata: Mapping[str, str] | None = None
) -> ObjectRef:
    try:
        with path.open("rb") as body:
            client.put_object(Bucket=bucket, Key=key, Body=body, Metadata=dict(metadata or {}))
    except (BotoCoreError, ClientError) as error:
        raise classify_s3_error(error, ObjectRef(bucket, key)) from error
    return ObjectRef(bucket, key)


def ensure_bucket(client: Any, bucket: str) -> None:
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        client.create_bucket(Bucket=bucket)
