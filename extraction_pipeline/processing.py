"""Extract one S3 object: download it to a private temp file, run the extractor, time it. No Dagster here.

The asset calls this per partition; the CLI and benchmarks call the same function.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extraction_pipeline.extractors import extract_file
from extraction_pipeline.extractors.registry import extractor_version
from extraction_pipeline.extractors.sandbox import ExtractionLimits, Sandbox
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.s3 import download_object
from extraction_pipeline.store import JobStore, StoredJob


@dataclass(frozen=True)
class FileExtraction:
    """A completed extraction of one object version: what the IO manager writes into the row."""

    file_url: str
    etag: str
    file_size: int
    format: str
    extractor_version: str
    duration_ms: int
    result: dict[str, Any]


def extract_object(
    client: Any,
    ref: ObjectRef,
    *,
    options: Mapping[str, Any],
    limits: ExtractionLimits,
    sandbox: Sandbox | None = None,
) -> FileExtraction:
    started = time.monotonic()
    # The file name on disk is ours, never derived from the S3 key (keys can hold '../' and worse).
    with tempfile.TemporaryDirectory(prefix="extraction-") as workdir:
        local_path = Path(workdir) / "object"
        etag, size = download_object(client, ref, local_path, max_bytes=limits.max_file_bytes)
        result = extract_file(local_path, filename=ref.filename, options=options, limits=limits, sandbox=sandbox)
    return FileExtraction(
        file_url=ref.file_url,
        etag=etag,
        file_size=size,
        format=result.format.value,
        extractor_version=extractor_version(result.format),
        duration_ms=int((time.monotonic() - started) * 1000),
        result=result.to_json_dict(),
    )


def record_completion(store: JobStore, ref: ObjectRef, extraction: FileExtraction) -> StoredJob:
    """Write a completed extraction into its row (the IO manager and backfill batches both call this)."""
    return store.mark_completed(
        ref,
        result=extraction.result,
        file_format=extraction.format,
        extractor_version=extraction.extractor_version,
        duration_ms=extraction.duration_ms,
        file_size=extraction.file_size,
        etag=extraction.etag,
    )
