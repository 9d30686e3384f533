"""S3 objects as the pipeline sees them: where a file is (``ObjectRef``) and which version of it (``ObjectVersion``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

_S3_SCHEME = "s3://"


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str

    @property
    def file_url(self) -> str:
        return f"{_S3_SCHEME}{self.bucket}/{self.key}"

    @property
    def filename(self) -> str:
        return PurePosixPath(self.key).name or self.key

    @classmethod
    def from_file_url(cls, file_url: str) -> ObjectRef:
        if not file_url.startswith(_S3_SCHEME) or "/" not in file_url[len(_S3_SCHEME) :]:
            raise ValueError(f"not an s3://bucket/key URL: {file_url!r}")
        bucket, key = file_url[len(_S3_SCHEME) :].split("/", 1)
        if not bucket or not key:
            raise ValueError(f"not an s3://bucket/key URL: {file_url!r}")
        return cls(bucket, key)


@dataclass(frozen=True)
class RecordLink:
    """Optional link back to the PyBase record attachment the file belongs to (from S3 user metadata)."""

    record_id: str | None = None
    field_id: str | None = None
    attachment_id: str | None = None


@dataclass(frozen=True)
class ObjectVersion:
    """One version of an object, as a listing (or an S3 event notification) reports it."""

    ref: ObjectRef
    etag: str
    size: int
    last_modified: datetime
    link: RecordLink = field(default_factory=RecordLink)
    options: dict[str, Any] = field(default_factory=dict)
