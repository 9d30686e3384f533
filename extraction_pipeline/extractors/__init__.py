"""Extraction of one engineering file: ``extract_file`` is the single entry point of the CLI and the asset.

Importing this package is cheap: parser libraries are imported only by the sandbox child that runs them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from extraction_pipeline.errors import (
    ConfigurationError,
    EmptyFileError,
    ExtractionTimeoutError,
    FileTooLargeError,
    ObjectNotFoundError,
    RemoteServiceError,
)
from extraction_pipeline.extractors.detect import (
    SUPPORTED_EXTENSIONS,
    detect_format,
    format_from_extension,
)
from extraction_pipeline.extractors.registry import extractor_version
from extraction_pipeline.extractors.sandbox import ExtractionLimits, Sandbox, default_sandbox
from extraction_pipeline.extractors.schema import ExtractionResult, FileFormat, SourceInfo

__all__ = [
    "ENGINES",
    "SUPPORTED_EXTENSIONS",
    "ExtractionLimits",
    "ExtractionResult",
    "FileFormat",
    "Sandbox",
    "SourceInfo",
    "choose_extractor",
    "detect_format",
    "extract_file",
    "extractor_version",
    "format_from_extension",
]

NATIVE_ENGINE = "native"
WERK24_ENGINE = "werk24"
ENGINES: tuple[str, ...] = (NATIVE_ENGINE, WERK24_ENGINE)
_HASH_CHUNK_BYTES = 1024 * 1024
_MiB = 1024 * 1024


def extract_file(
    path: Path,
    *,
    filename: str,
    options: Mapping[str, Any] | None = None,
    limits: ExtractionLimits | None = None,
    sandbox: Sandbox | None = None,
) -> ExtractionResult:
    """Extract ``path`` (named ``filename`` by its uploader) into the one result schema.

    ``options["engine"]`` (or ``EXTRACTION_ENGINE``) picks ``"native"`` or ``"werk24"`` for PDFs. The file
    is parsed in ``sandbox`` (default: the process-wide warm sandbox for ``limits``), whose own limits
    bound time and memory; ``limits`` (default: from the environment) also caps the file size.
    Every failure is a typed ``ExtractionError``.
    """
    options = dict(options or {})
    limits = limits if limits is not None else (sandbox.limits if sandbox else ExtractionLimits.from_env())
    size = _checked_size(path, filename, limits)
    file_format = detect_format(path, filename)
    extractor = choose_extractor(file_format, options, filename=filename)
    source = SourceInfo(filename=filename, size=size, sha256=_sha256(path))
    runner = sandbox if sandbox is not None else default_sandbox(limits)
    # The result's extractor_version is "<format>/<VERSION>" (registry.extractor_version), the string the
    # row's extractor_version column holds; the sandbox stamps it where the extractor module is loaded.
    if extractor is not FileFormat.WERK24:
        return runner.run(extractor, path, source, options)
    return _run_remote_engine(runner, path, source, options)


def _run_remote_engine(runner: Sandbox, path: Path, source: SourceInfo, options: Mapping[str, Any]) -> ExtractionResult:
    """Werk24 waits on a web service with its own time budget: the sandbox's kill comes only after it, and
    a kill then means the service hung (retryable), not that the file is too hard to parse."""
    from extraction_pipeline.extractors.werk24 import DEFAULT_TIMEOUT_SECONDS

    service_budget = float(options.get("werk24_timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
    try:
        return runner.run(
            FileFormat.WERK24,
            path,
            source,
            options,
            timeout_seconds=runner.limits.timeout_seconds + service_budget,
        )
    except ExtractionTimeoutError as error:
        raise RemoteServiceError(f"{source.filename}: Werk24 did not answer in time ({error.message})") from error


def choose_extractor(
    file_format: FileFormat,
    options: Mapping[str, Any],
    *,
    filename: str,
    environ: Mapping[str, str] | None = None,
) -> FileFormat:
    """The registry key that extracts a file of ``file_format``: the format itself, or Werk24 for a PDF
    when ``options["engine"] == "werk24"`` or ``EXTRACTION_ENGINE=werk24`` (the option wins)."""
    env = os.environ if environ is None else environ
    default_engine = _engine_name(env.get("EXTRACTION_ENGINE") or NATIVE_ENGINE, "EXTRACTION_ENGINE")
    requested = options.get("engine")
    if requested is not None:
        requested = _engine_name(str(requested), "the 'engine' option")
        if requested == WERK24_ENGINE and file_format is not FileFormat.PDF:
            raise ConfigurationError(
                f"{filename}: the Werk24 engine reads PDF drawings only, and this is a {file_format.value.upper()} file"
            )
    engine = requested or (default_engine if file_format is FileFormat.PDF else NATIVE_ENGINE)
    if engine != WERK24_ENGINE:
        return file_format
    if not env.get("WERK24_TOKEN", "").strip():
        raise ConfigurationError(f"{filename}: the Werk24 engine was requested but WERK24_TOKEN is not set")
    return FileFormat.WERK24


def _engine_name(raw: str, origin: str) -> str:
    name = raw.strip().lower()
    if name not in ENGINES:
        raise ConfigurationError(f"{origin} must be one of {', '.join(ENGINES)}, got {raw!r}")
    return name


def _checked_size(path: Path, filename: str, limits: ExtractionLimits) -> int:
    """The file's size, refused before any parsing when it is empty or over ``max_file_bytes``."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ObjectNotFoundError(f"{filename}: the file is gone ({path} does not exist)") from None
    if size == 0:
        raise EmptyFileError(f"{filename} is empty (0 bytes)")
    if size > limits.max_file_bytes:
        raise FileTooLargeError(
            f"{filename} is {_size_text(size)}, over the {_size_text(limits.max_file_bytes)} limit "
            "(EXTRACTION_MAX_FILE_BYTES)"
        )
    return size


def _size_text(size: int) -> str:
    if size < _MiB:
        return f"{size} bytes"
    return f"{size // _MiB} MiB" if size % _MiB == 0 else f"{size / _MiB:.1f} MiB"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
