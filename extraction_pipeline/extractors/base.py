"""What every per-format extractor module provides.

An extractor module (``pdf.py``, ``dxf.py``, ``ifc.py``, ``step.py``, ``werk24.py``) exposes:

- ``VERSION: str`` — bumped whenever its output for the same file can change (lands in
  ``extraction_jobs.extractor_version`` and in the asset's ``code_version``);
- ``extract(path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult``.

Extractors are plain Python (no Dagster imports). They raise typed errors from
``extraction_pipeline.errors`` — never a "successful" result carrying an errors list — and turn a parser
library's own exceptions on a bad file into ``CorruptFileError`` with a message a user understands.
They run inside the sandbox child process (see ``sandbox.py``), which enforces time and memory caps.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from extraction_pipeline.extractors.schema import ExtractionResult, SourceInfo


class ExtractorModule(Protocol):
    VERSION: str

    def extract(self, path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult: ...
