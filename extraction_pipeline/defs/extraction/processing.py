"""Extract S3 objects: download one to a private temp file, run the extractor in a sandbox, time it. No Dagster.

The run engine calls ``extract_object`` per file; a run over many files parses on a ``SandboxPool`` of warm
children, a lone file on the process-wide sandbox.
"""

from __future__ import annotations

import queue
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from extraction_pipeline.extractors import extract_file
from extraction_pipeline.extractors.sandbox import ExtractionLimits, Sandbox
from extraction_pipeline.extractors.schema import ExtractionResult, FileFormat, SourceInfo
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.s3 import download_object, link_and_options
from extraction_pipeline.store import FileExtraction


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


class SandboxPool:
    """``size`` warm sandbox children; ``run`` borrows a free one, so ``size`` files are parsed at once.

    It has the ``limits`` and ``run`` of a ``Sandbox``, so ``extract_object``/``extract_file`` take it as theirs:
    a thread downloads its file first and borrows a child only to parse it.
    """

    def __init__(self, limits: ExtractionLimits, size: int, *, isolated: bool | None = None) -> None:
        self.limits = limits
        self._all = [Sandbox(limits, isolated=isolated) for _ in range(max(1, size))]
        self._free: queue.Queue[Sandbox] = queue.Queue()
        for sandbox in self._all:
            self._free.put(sandbox)
        # The children start (≈1 s each: a Python process) while the batch reads its rows and downloads.
        self._warming = [threading.Thread(target=sandbox.warm, daemon=True) for sandbox in self._all]
        for thread in self._warming:
            thread.start()

    @property
    def size(self) -> int:
        return len(self._all)

    def run(
        self,
        file_format: FileFormat,
        path: Path,
        source: SourceInfo,
        options: Mapping[str, Any],
        *,
        timeout_seconds: float | None = None,
    ) -> ExtractionResult:
        sandbox = self._free.get()
        try:
            return sandbox.run(file_format, path, source, options, timeout_seconds=timeout_seconds)
        finally:
            self._free.put(sandbox)

    def close(self) -> None:
        for thread in self._warming:
            thread.join()
        for sandbox in self._all:
            sandbox.close()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
