"""Extract one S3 object: download it to a private temp file, run the extractor, time it. No Dagster here.

The asset calls this per partition; the CLI and benchmarks call the same function.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extraction_pipeline.extractors import extract_file
from extraction_pipeline.extractors.sandbox import ExtractionLimits, Sandbox
from extraction_pipeline.objects import ObjectRef, RecordLink
from extraction_pipeline.s3 import download_object, link_and_options
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
    record_link: RecordLink = field(default_factory=RecordLink)  # from the object's S3 user metadata


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
        etag, size, metadata = download_object(client, ref, local_path, max_bytes=limits.max_file_bytes)
        # The GET carries the user metadata too: a file registered without a HEAD (bulk import) gets its record
        # link and options here; options the row already holds win.
        link, object_options = link_and_options(metadata)
        options = {**object_options, **options}
        result = extract_file(local_path, filename=ref.filename, options=options, limits=limits, sandbox=sandbox)
    return FileExtraction(
        file_url=ref.file_url,
        etag=etag,
        file_size=size,
        format=result.format.value,
        # stamped by the sandbox where the extractor ran: the parent never imports the parser libraries
        extractor_version=result.extractor_version,
        duration_ms=int((time.monotonic() - started) * 1000),
        result=result.to_json_dict(),
        record_link=link,
    )


def record_completion(store: JobStore, ref: ObjectRef, extraction: FileExtraction) -> StoredJob:
    """Write a completed extraction into its row (the IO manager calls this; batches use ``complete_batch``)."""
    if extraction.record_link != RecordLink():
        store.fill_record_link(ref, extraction.record_link)  # a row registered without a HEAD (bulk import)
    return store.mark_completed(
        ref,
        result=extraction.result,
        file_format=extraction.format,
        extractor_version=extraction.extractor_version,
        duration_ms=extraction.duration_ms,
        file_size=extraction.file_size,
        etag=extraction.etag,
    )
