"""The HTTP API as a FastAPI ``APIRouter``: PyBase mounts it with ``app.include_router(extraction_router, prefix=…)``.

Every endpoint is the CLI's own function behind a token check: ``JobStore`` reads (``jobs list/show/stats``),
``submit_file`` of the inbox sensor (``submit``), ``operations.retry_job`` / ``operations.cancel_job`` (``jobs retry`` /
``jobs cancel``). Handlers are plain functions: FastAPI runs them in its thread pool, as the store and the
webserver client block.

No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations (``Context`` is local to
``build_router``) when the routes are declared.
"""

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, Security, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from extraction_pipeline import operations
from extraction_pipeline.api.auth import TOKENS_ENV, Access, ApiAuth
from extraction_pipeline.api.context import ApiContext, refusals
from extraction_pipeline.api.health import check_health
from extraction_pipeline.api.models import (
    FILE_URL_LENGTH,
    LINK_ID_LENGTH,
    NO_NUL,
    S3_URL,
    Cancelled,
    Health,
    InvalidInput,
    Job,
    JobList,
    JobStatsBody,
    Problem,
    RetryAccepted,
    SubmitJob,
)
from extraction_pipeline.extractors.schema import ExtractionResult, FileFormat
from extraction_pipeline.objects import RecordLink
from extraction_pipeline.store import JobFilter, JobStatus, PageCursor

MAX_PAGE = 500
_JOB_ID_LENGTH = 36  # the table's id column
_bearer = HTTPBearer(auto_error=False, description=f"A token of {TOKENS_ENV} (TOKEN:ro ones may only read).")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    reasons = {
        400: "The body is not JSON.",
        401: "No or unknown bearer token.",
        403: "A read-only token asked to change something.",
        404: "No job with that id or file_url.",
        409: "The job's state does not allow it.",
        422: "The input is not usable.",
        502: "The Dagster webserver refused or failed the request.",
        503: "The database, S3 or the Dagster webserver is unreachable (or has no tokens configured).",
    }
    return {code: {"model": InvalidInput if code == 422 else Problem, "description": reasons[code]} for code in codes}


_READ = (401, 503)
_WRITE = (401, 403, 503)

JobId = Annotated[str, Path(min_length=1, max_length=_JOB_ID_LENGTH, pattern=NO_NUL, description="The job's id")]
_LinkFilter = Query(min_length=1, max_length=LINK_ID_LENGTH, pattern=NO_NUL)


def _utc(value: datetime | None) -> datetime | None:
    """Naive datetimes are UTC; one outside what UTC can hold is a 422, not a database error."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    except OverflowError as error:
        raise HTTPException(422, f"since={value.isoformat()} is out of range in UTC") from error


class _Resolver:
    """The context and auth of one router: given, or read from the environment on first use."""

    def __init__(self, context: ApiContext | None, auth: ApiAuth | None) -> None:
        self._context, self._auth = context, auth
        self._lock = threading.Lock()  # concurrent first requests open one store, not one each

    def context(self) -> ApiContext:
        with self._lock:
            if self._context is None:
                with refusals():
                    self._context = ApiContext.from_environment()
            return self._context

    def auth(self) -> ApiAuth:
        if self._auth is None:
            self._auth = ApiAuth.from_environment()
        return self._auth

    def access(self, access: Access) -> Callable[..., None]:
        def require(credentials: Credentials) -> None:
            auth = self.auth()
            if auth.anonymous:
                return
            if not auth.tokens:
                raise HTTPException(503, f"the extraction API has no tokens configured: set {TOKENS_ENV}")
            token = auth.find(credentials.credentials if credentials else None)
            if token is None:
                raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})
            if not token.allows(access):
                raise HTTPException(403, "this token is read-only")

        return require

    def authenticated(self, credentials: Credentials) -> bool:
        auth = self.auth()
        return auth.anonymous or auth.find(credentials.credentials if credentials else None) is not None


def build_router(context: ApiContext | None = None, auth: ApiAuth | None = None) -> APIRouter:
    """The API's router. Without arguments it reads the CLI's settings and ``EXTRACTION_API_TOKENS`` when the
    first request arrives, so importing it opens no connection."""
    resolver = _Resolver(context, auth)
    reader = [Depends(resolver.access(Access.READ))]
    writer = [Depends(resolver.access(Access.WRITE))]
    router = APIRouter()
    Context = Annotated[ApiContext, Depends(resolver.context)]

    @router.get("/jobs", tags=["jobs"], dependencies=reader, responses=_problems(*_READ, 422))
    def list_jobs(
        ctx: Context,
        job_status: Annotated[JobStatus | None, Query(alias="status")] = None,
        file_format: Annotated[FileFormat | None, Query(alias="format")] = None,
        record_id: Annotated[str | None, _LinkFilter] = None,
        attachment_id: Annotated[str | None, _LinkFilter] = None,
        file_url: Annotated[str | None, Query(max_length=FILE_URL_LENGTH, pattern=NO_NUL)] = None,
        since: Annotated[datetime | None, Query(description="Created at or after (naive: UTC).")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[str | None, Query(max_length=400, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    ) -> JobList:
        """Jobs newest first, a page at a time: pass `next_cursor` back as `cursor` for the next page."""
        job_filter = JobFilter(job_status, file_format.value if file_format else None, record_id, attachment_id,
                               file_url, _utc(since))  # fmt: skip
        with refusals():
            page = ctx.store.page(job_filter, after=PageCursor.decode(cursor) if cursor else None, limit=limit)
        return JobList(
            jobs=[Job.from_stored(row) for row in page.jobs],
            next_cursor=page.next_cursor.encode() if page.next_cursor else None,
        )

    @router.get("/jobs/stats", tags=["jobs"], dependencies=reader, responses=_problems(*_READ, 422))
    def job_stats(ctx: Context, since: datetime | None = None) -> JobStatsBody:
        """Counts per status and format, failure rate, p50/p95 duration (as `jobs stats`)."""
        with refusals():
            return JobStatsBody.from_stats(ctx.store.stats(since=_utc(since)))

    @router.get("/jobs/by-url", tags=["jobs"], dependencies=reader, responses=_problems(*_READ, 404, 422))
    def job_by_url(ctx: Context, file_url: Annotated[str, Query(max_length=FILE_URL_LENGTH, pattern=S3_URL)]) -> Job:
        """The job of an S3 object (s3://bucket/key): status, error kind and message, retries, timings."""
        with refusals():
            return Job.from_stored(ctx.store.get(file_url))

    @router.get("/jobs/{job_id}", tags=["jobs"], dependencies=reader, responses=_problems(*_READ, 404, 422))
    def get_job(ctx: Context, job_id: JobId) -> Job:
        """One job: status, error kind and message, retries, timings (as `jobs show`)."""
        with refusals():
            return Job.from_stored(ctx.store.get(job_id))

    @router.get(
        "/jobs/{job_id}/result",
        tags=["jobs"],
        dependencies=reader,
        response_model=None,
        responses={200: {"model": ExtractionResult, "description": "The result JSON."},
                   **_problems(*_READ, 404, 409, 422)},
    )  # fmt: skip
    def get_result(ctx: Context, job_id: JobId) -> JSONResponse:
        """The extraction result of a completed job, exactly as stored (`jobs show --json`)."""
        with refusals():
            row = ctx.store.get(job_id)
        if row.result is None:
            raise HTTPException(409, f"job {row.id} is {row.status.value}: it has no result")
        return JSONResponse(row.result)

    @router.post(
        "/jobs",
        tags=["jobs"],
        dependencies=writer,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"model": Job, "description": "The file already had a job: the record link and options given were "
                  "merged into it (they win); its status and extraction are unchanged."},
            **_problems(*_WRITE, 400, 422),
        },
    )  # fmt: skip
    def submit_job(ctx: Context, body: SubmitJob, response: Response) -> Job:
        """Queue an uploaded S3 object for extraction (a `pending` row the inbox sensor runs next), as `submit`.

        If the file already has a job (a detector saw the upload first), the link and options given are merged
        into it, the caller's winning, and the job is returned with 200."""
        from extraction_pipeline.defs.detection.inbox_sensor import submit_or_merge

        link = RecordLink(record_id=body.record_id, field_id=body.field_id, attachment_id=body.attachment_id)
        with refusals():
            job_id, created = submit_or_merge(ctx.store, body.file_url, link=link, options=dict(body.options))
            row = ctx.store.get(job_id)
        response.headers["Location"] = f"jobs/{row.id}"
        if not created:
            response.status_code = status.HTTP_200_OK
        return Job.from_stored(row)

    @router.post(
        "/jobs/{job_id}/retry",
        tags=["jobs"],
        dependencies=writer,
        status_code=status.HTTP_202_ACCEPTED,
        responses=_problems(*_WRITE, 404, 409, 422, 502),
    )
    def retry_job(ctx: Context, job_id: JobId) -> RetryAccepted:
        """Re-extract a failed, cancelled or completed job: one Dagster run of its partition (`jobs retry`)."""
        with refusals():
            outcome = operations.retry_job(ctx.store, job_id, webserver=ctx.webserver(), s3_client=ctx.s3())
        return RetryAccepted(job=Job.from_stored(outcome.job), run_id=outcome.run_id)

    @router.delete(
        "/jobs/{job_id}", tags=["jobs"], dependencies=writer, responses=_problems(*_WRITE, 404, 409, 422, 502)
    )
    def cancel_job(ctx: Context, job_id: JobId) -> Cancelled:
        """Cancel a pending, retrying or processing job and terminate its runs (`jobs cancel`). A run Dagster
        could not terminate is a 502 (the job is cancelled all the same; the reason names the run)."""
        with refusals():
            outcome = operations.cancel_job(ctx.store, job_id, webserver=ctx.webserver())
        if outcome.termination_failures:
            failures = "; ".join(f"run {run}: {reason}" for run, reason in outcome.termination_failures.items())
            raise HTTPException(502, f"job {outcome.job.id} is cancelled, but Dagster did not terminate {failures}")
        return Cancelled(job=Job.from_stored(outcome.job), terminated_run_ids=outcome.terminated_run_ids)

    @router.get("/health", tags=["health"], responses={503: {"model": Health, "description": "Something is down."}})
    def health(response: Response, authenticated: Annotated[bool, Depends(resolver.authenticated)]) -> Health:
        """Whether the database, S3 and the Dagster webserver answer (the reasons only with a valid token)."""
        report = check_health(resolver.context, with_details=authenticated)
        if report.status != "ok":
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return report

    return router


extraction_router = build_router()
