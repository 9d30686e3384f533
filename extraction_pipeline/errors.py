"""Typed errors that classify themselves as retryable or permanent.

Every failure the pipeline can meet is one of these. The asset decides between ``RetryRequested`` and
``Failure(allow_retries=False)`` from ``error.kind`` alone, and the same kind lands in the
``extraction_jobs.error_kind`` column, so PyBase can tell "try again later" from "this file is bad".
"""

from __future__ import annotations

from enum import Enum


class ErrorKind(str, Enum):
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


class ExtractionError(Exception):
    """Base of every error the pipeline classifies. Subclasses fix ``kind``."""

    kind: ErrorKind = ErrorKind.PERMANENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.kind is ErrorKind.RETRYABLE

    def to_dict(self) -> dict[str, str]:
        """The shape the CLI prints and the row stores: kind, exception type, message."""
        return {"kind": self.kind.value, "type": type(self).__name__, "message": self.message}


class PermanentError(ExtractionError):
    """The file itself is the problem: retrying cannot help."""

    kind = ErrorKind.PERMANENT


class RetryableError(ExtractionError):
    """A service hiccup (network, throttling, timeouts of remote services): retrying may help."""

    kind = ErrorKind.RETRYABLE


# --- permanent: the file ---------------------------------------------------------------------------------
class UnsupportedFormatError(PermanentError):
    """The file is of a format we do not extract (or DWG without a converter)."""


class UnsupportedIfcSchemaError(UnsupportedFormatError):
    """An IFC file written in a schema version this build's ifcopenshell does not read (IFC4X1, IFC4X3_RC2, …)."""


class FormatMismatchError(PermanentError):
    """The content says one format and the extension another."""


class CorruptFileError(PermanentError):
    """The parser could not read the file: truncated, damaged or not what it claims to be."""


class EmptyFileError(PermanentError):
    """The object has no bytes."""


class FileTooLargeError(PermanentError):
    """The object is over ``EXTRACTION_MAX_FILE_BYTES`` or its parse needed more than the memory cap."""


class ExtractionTimeoutError(PermanentError):
    """Parsing took longer than ``EXTRACTION_TIMEOUT_SECONDS``: the same file will take as long again."""


class ExtractorCrashedError(PermanentError):
    """The parser died (crash in C code, killed by the memory cap) on this file."""


class ObjectNotFoundError(PermanentError):
    """The object was deleted between detection and extraction."""


class ConfigurationError(PermanentError):
    """The pipeline is not configured for this file (e.g. Werk24 asked for without a token)."""


# --- retryable: the services around the file -------------------------------------------------------------
class StorageUnavailableError(RetryableError):
    """S3 (or the S3-compatible store) did not answer, answered 5xx or throttled us."""


class RemoteServiceError(RetryableError):
    """A remote extraction service (Werk24) timed out, throttled or answered 5xx."""


class DatabaseUnavailableError(RetryableError):
    """The extraction_jobs database refused or dropped the connection."""


class UnexpectedError(RetryableError):
    """Anything not classified above (a bug, an unforeseen library error outside the parser): retried on schedule."""


# --- operator actions (the CLI turns each into its exit code and message) ------------------------------------
class OperationError(Exception):
    """An operator action (retry, cancel, bulk import) that cannot be done; the message says why."""
