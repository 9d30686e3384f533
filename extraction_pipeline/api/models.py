"""The API's request and response bodies: the OpenAPI document (``/openapi.json``) is generated from these.

A job is the ``extraction_jobs`` row without its result; the result is ``extractors.schema.ExtractionResult``
itself, so the document and the stored JSON cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.store import JobStats, JobStatus, StoredJob

# PostgreSQL text cannot hold NUL; refusing it at the edge keeps such input a 422 instead of a database error.
NO_NUL = r"^[^\x00]*$"
S3_URL = r"^s3://[^/\x00]+/[^\x00]+$"
# The width of the table's record_id/field_id/attachment_id columns.
LINK_ID_LENGTH = 64
# S3 keys are at most 1,024 bytes; bucket names 63 characters.
FILE_URL_LENGTH = 1100

LinkId = Annotated[str, StringConstraints(min_length=1, max_length=LINK_ID_LENGTH, pattern=NO_NUL)]
FileUrl = Annotated[str, StringConstraints(max_length=FILE_URL_LENGTH, pattern=S3_URL)]
OptionKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)]
OptionText = Annotated[str, StringConstraints(max_length=1000, pattern=NO_NUL)]
OptionValue = OptionText | bool | int | Annotated[float, Field(allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Job(_Body):
    """One extraction job (a row of ``extraction_jobs``) without its result: ``GET /jobs/{id}/result`` has it."""

    id: str
    file_url: str
    filename: str = Field(description="Empty until the pipeline registered the file.")
    file_size: int | None
    format: str | None
    etag: str | None
    status: JobStatus
    options: dict[str, Any]
    error_message: str | None = Field(description="The whole error of a failed or retrying attempt.")
    error_kind: ErrorKind | None = Field(description="retryable or permanent")
    retry_count: int
    max_retries: int
    next_retry_at: datetime | None
    record_id: str | None
    field_id: str | None
    attachment_id: str | None
    partition_key: str
    dagster_run_id: str | None
    extractor_version: str | None
    duration_ms: int | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    has_result: bool

    @classmethod
    def from_stored(cls, row: StoredJob) -> Job:
        fields = {name: getattr(row, name) for name in cls.model_fields if name != "has_result"}
        return cls(**fields, has_result=row.result is not None)


class JobList(_Body):
    jobs: list[Job]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class JobStatsBody(_Body):
    total: int
    by_status: dict[str, int]
    by_format: dict[str, dict[str, int]] = Field(description="format → status → count")
    failure_rate: float = Field(description="failed / (completed + failed)")
    p50_duration_ms: float | None
    p95_duration_ms: float | None

    @classmethod
    def from_stats(cls, stats: JobStats) -> JobStatsBody:
        return cls(total=stats.total, by_status=stats.by_status, by_format=stats.by_format,
                   failure_rate=stats.failure_rate, p50_duration_ms=stats.p50_duration_ms,
                   p95_duration_ms=stats.p95_duration_ms)  # fmt: skip


class SubmitJob(_Body):
    """A file to extract: the same row an application inserts into the table itself (the inbox)."""

    file_url: FileUrl = Field(description="s3://bucket/key of an uploaded PDF, DXF, IFC, STEP or image file")
    record_id: LinkId | None = None
    field_id: LinkId | None = None
    attachment_id: LinkId | None = None
    options: dict[OptionKey, OptionValue] = Field(
        default_factory=dict, max_length=50, description='Extractor options, e.g. {"pages": "1-3"}.'
    )


class RetryAccepted(_Body):
    job: Job
    run_id: str = Field(description="The Dagster run that re-extracts the file.")


class Cancelled(_Body):
    job: Job
    terminated_run_ids: list[str]


class Problem(_Body):
    """Why a request was refused, in one line."""

    detail: str


class FieldError(BaseModel):
    """One malformed part of a request, as FastAPI reports it."""

    loc: list[str | int]
    msg: str
    type: str


class InvalidInput(_Body):
    """A 422: one line for a value the pipeline refuses (an unsupported file type, a bad page cursor), or FastAPI's
    list of field errors for a request that does not match this document."""

    detail: str | list[FieldError]


class ComponentHealth(_Body):
    ok: bool
    detail: str | None = Field(default=None, description="Why it is not reachable (only with a valid token).")


class Health(_Body):
    status: Literal["ok", "unavailable"]
    database: ComponentHealth
    s3: ComponentHealth
    dagster: ComponentHealth
