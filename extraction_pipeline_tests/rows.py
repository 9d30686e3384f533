"""Rows in a chosen state for tests that start from a finished file (the CLI, the sensors, the store)."""

from __future__ import annotations

from typing import Any

from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import FileExtraction, JobStore, StoredJob


def complete_row(
    store: JobStore,
    ref: ObjectRef,
    *,
    result: dict[str, Any],
    file_format: str,
    extractor_version: str,
    duration_ms: int,
    etag: str | None = None,
) -> StoredJob:
    """Write a completed extraction of ``ref`` the way a run does (``JobStore.complete``); the row afterwards.

    ``etag``: the object version that was extracted (default: the one the row describes).
    """
    row = store.get(ref.file_url)
    store.complete(
        [
            FileExtraction(
                file_url=ref.file_url,
                etag=etag if etag is not None else row.etag or "",
                file_size=row.file_size or 0,
                format=file_format,
                extractor_version=extractor_version,
                duration_ms=duration_ms,
                result=result,
            )
        ]
    )
    return store.get(ref.file_url)
