"""The per-file extraction asset: one dynamic partition per S3 object, one row per file.

Each attempt marks the row ``processing``, downloads the object and extracts it in the sandbox. A retryable
error schedules the next attempt itself (``RetryRequested`` with the plan's 30 s / 2 min / 8 min schedule) and
marks the row ``retrying``; a permanent error — or the last retryable one — marks the row ``failed`` and raises
``Failure(allow_retries=False)``. The op-level ``RetryPolicy`` only catches what escapes that (the IO manager's
write, for instance), and ``mark_row_failed`` is the hook that closes the row when even that gives up.
"""

import warnings
from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetOut,
    BackfillPolicy,
    Backoff,
    BetaWarning,
    DagsterExecutionInterruptedError,
    Failure,
    HookContext,
    Jitter,
    MetadataValue,
    Output,
    RetryPolicy,
    RetryRequested,
    TableColumn,
    TableRecord,
    TableSchema,
    failure_hook,
    multi_asset,
)
from dagster_aws.s3 import S3Resource

from extraction_pipeline import settings
from extraction_pipeline.defs.detection.registration import TAG_REASON
from extraction_pipeline.defs.extraction.batch import extract_batch, row_for
from extraction_pipeline.defs.extraction.checks import check_specs, file_checks
from extraction_pipeline.defs.extraction.outcomes import cancelled_observation, failure_observation, row_link_metadata
from extraction_pipeline.defs.extraction.partitions import extraction_partitions, object_for_partition
from extraction_pipeline.defs.extraction.processing import FileExtraction, extract_object
from extraction_pipeline.defs.extraction.retries import RetrySchedule
from extraction_pipeline.defs.resources import ExtractionSettings, JobStoreResource
from extraction_pipeline.errors import ErrorKind, ExtractionError, UnexpectedError
from extraction_pipeline.extractors.registry import declared_versions
from extraction_pipeline.extractors.schema import SCHEMA_VERSION
from extraction_pipeline.names import ASSET_NAME, PARTITION_TAG
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline.store.models import utcnow
from extraction_pipeline.store.store import with_db_retries

# backfill_policy is a beta parameter we use on purpose: its warning would fill every log that loads the code.
warnings.filterwarnings("ignore", category=BetaWarning, message="Parameter `backfill_policy`")
BATCH_SIZE = settings.backfill_batch_size()
# Writes of the row around an attempt ride out short database outages before the step itself is retried.
_DB_ATTEMPTS = 4
_DB_DELAY_SECONDS = 0.5


def _code_version() -> str:
    versions = ",".join(f"{name}-{version}" for name, version in sorted(declared_versions().items()))
    return f"schema-{SCHEMA_VERSION};{versions}"


@failure_hook(required_resource_keys={"job_store"})
def mark_row_failed(context: HookContext) -> None:
    """After the step's final failure, close a row that is still active (e.g. the IO manager kept failing)."""
    run = context.instance.get_run_by_id(context.run_id)
    partition_key = run.tags.get(PARTITION_TAG) if run else None
    if not partition_key:
        return
    message = f"extraction step failed: {context.op_exception}" if context.op_exception else "extraction step failed"
    context.resources.job_store.get_store().fail_if_active(
        object_for_partition(partition_key), message=message, kind=ErrorKind.RETRYABLE
    )


def _fallback_retry_policy() -> RetryPolicy:
    return RetryPolicy(
        max_retries=settings.env_int(settings.MAX_RETRIES_ENV, settings.DEFAULT_MAX_RETRIES),
        delay=settings.env_float(settings.RETRY_BASE_ENV, settings.DEFAULT_RETRY_BASE_SECONDS),
        backoff=Backoff.EXPONENTIAL,
        jitter=Jitter.PLUS_MINUS,
    )


@multi_asset(
    name=ASSET_NAME,
    outs={
        ASSET_NAME: AssetOut(
            io_manager_key="extraction_jobs_io_manager",
            code_version=_code_version(),
            group_name="extraction",
            kinds={"s3", "python"},
            description="Structured data extracted from one engineering file (PDF, DXF, IFC, STEP, Werk24) in S3.",
            is_required=False,
        )
    },
    partitions_def=extraction_partitions,
    retry_policy=_fallback_retry_policy(),
    hooks={mark_row_failed},
    pool="extraction",
    check_specs=check_specs(AssetKey(ASSET_NAME)),
    # A multi-asset that can subset is how Dagster lets a step leave a check without result: the PDF text-layer
    # check has nothing to say about a DXF, IFC or STEP file, so those files get no result rather than "passed".
    can_subset=True,
    # Backfills (bulk imports, re-extraction after an upgrade) run BATCH_SIZE files per run: one run per file
    # costs a process start and a Dagster run each. A batch records each file's own materialization.
    backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=BATCH_SIZE),
)
def file_extraction(
    context: AssetExecutionContext,
    s3: S3Resource,
    job_store: JobStoreResource,
    extraction_settings: ExtractionSettings,
) -> Iterator[Output[FileExtraction] | AssetCheckResult]:
    if context.has_partition_key_range and len(context.partition_keys) > 1:
        yield from extract_batch(context, s3.get_client(), job_store.get_store(), extraction_settings)
        return
    ref = object_for_partition(context.partition_key)
    store = job_store.get_store()
    if ASSET_NAME not in context.selected_output_names:
        # Only checks were selected ("Execute" on a check in the UI): re-check the stored result, extract nothing.
        yield from _checks_of_stored_result(store, ref)
        return
    client = s3.get_client()
    attempt = context.retry_number
    row = row_for(store, client, ref, extraction_settings.max_retries)
    if row.status is JobStatus.CANCELLED and TAG_REASON in context.run.tags:
        # Cancelled by an operator: a sensor-requested run that slipped through leaves it alone.
        raise Failure(description=f"{ref.file_url} was cancelled; not extracting", allow_retries=False)
    with_db_retries(
        lambda: store.mark_processing(ref, run_id=context.run.run_id, attempt=attempt),
        attempts=_DB_ATTEMPTS,
        delay_seconds=_DB_DELAY_SECONDS,
    )
    try:
        extraction = extract_object(client, ref, options=row.options, limits=extraction_settings.limits())
    except (DagsterExecutionInterruptedError, KeyboardInterrupt) as interrupt:
        # Terminated (`jobs cancel`, the UI's Terminate): the sandbox has killed its child. Dagster would retry an
        # interrupted step under the RetryPolicy; a Failure without retries ends it, and the partition says
        # "cancelled" instead of looking never run.
        _record_cancellation(context, store, ref, row.id)
        raise Failure(description=f"{ref.file_url}: cancelled while extracting", allow_retries=False) from interrupt
    except ExtractionError as error:
        raise _retry_or_fail(context, store, ref, error, extraction_settings.retry_schedule()) from error
    except Exception as error:
        unexpected = UnexpectedError(f"{type(error).__name__}: {error}")
        raise _retry_or_fail(context, store, ref, unexpected, extraction_settings.retry_schedule()) from error
    context.log.info(f"extracted {ref.file_url} ({extraction.format}) in {extraction.duration_ms} ms")
    yield Output(extraction, output_name=ASSET_NAME, metadata=materialization_metadata(extraction, job_id=row.id))
    yield from file_checks(extraction.result, file_size=extraction.file_size, file_format=extraction.format)


def _retry_or_fail(
    context: AssetExecutionContext,
    store: JobStore,
    ref: ObjectRef,
    error: ExtractionError,
    schedule: RetrySchedule,
) -> Exception:
    """Record the outcome of a failed attempt in the row; return the exception that tells Dagster what next."""
    attempt = context.retry_number
    if error.retryable and schedule.should_retry(attempt):
        delay = schedule.delay(attempt)
        with_db_retries(
            lambda: store.mark_retrying(
                ref, error=error, retry_count=attempt + 1, next_retry_at=schedule.next_retry_at(utcnow(), delay)
            ),
            attempts=_DB_ATTEMPTS,
            delay_seconds=_DB_DELAY_SECONDS,
        )
        context.log.warning(f"{ref.file_url}: {error.message} — retry {attempt + 1} in {delay:.1f} s")
        return RetryRequested(max_retries=schedule.max_retries, seconds_to_wait=delay)
    attempts = attempt + 1
    message = error.message if not error.retryable else f"{error.message} (gave up after {attempts} attempts)"
    failed = with_db_retries(
        lambda: store.mark_failed(ref, message=message, kind=error.kind, attempts=attempt),
        attempts=_DB_ATTEMPTS,
        delay_seconds=_DB_DELAY_SECONDS,
    )
    context.log_event(
        failure_observation(
            context.asset_key, context.partition_key, error, message=message, job_id=failed.id, attempts=attempts
        )
    )
    return Failure(
        description=f"{ref.file_url}: {message}",
        metadata={
            "file_url": ref.file_url,
            "error_kind": error.kind.value,
            "error_type": type(error).__name__,
            "attempts": attempts,
        },
        allow_retries=False,
    )


def _checks_of_stored_result(store: JobStore, ref: ObjectRef) -> Iterator[AssetCheckResult]:
    row = store.get(ref.file_url)
    if row.status is not JobStatus.COMPLETED or row.result is None:
        raise Failure(description=f"{ref.file_url} has no extraction to check (its job is {row.status.value})",
                      allow_retries=False)  # fmt: skip
    yield from file_checks(row.result, file_size=row.file_size or 0, file_format=row.format or "")


def _record_cancellation(context: AssetExecutionContext, store: JobStore, ref: ObjectRef, job_id: str) -> None:
    """The row (unless `jobs cancel` already did) and the partition say cancelled."""
    if store.get(ref.file_url).status is JobStatus.PROCESSING:
        store.mark_cancelled(ref)
    context.log_event(cancelled_observation(context.asset_key, context.partition_key, job_id=job_id,
                                            run_id=context.run.run_id))  # fmt: skip


def _count(result: dict[str, Any], section: str) -> int:
    value = result.get(section)
    return len(value) if isinstance(value, list) else 0


def materialization_metadata(extraction: FileExtraction, *, job_id: str | None = None) -> dict[str, Any]:
    """What an operator wants at a glance on each materialization (and the row behind it, when known)."""
    result = extraction.result
    tables = result.get("tables") or []
    metadata: dict[str, Any] = {
        **row_link_metadata(job_id),
        "file_url": MetadataValue.url(extraction.file_url),
        "format": extraction.format,
        "file_size_bytes": extraction.file_size,
        "etag": extraction.etag,
        "duration_ms": extraction.duration_ms,
        "extractor_version": extraction.extractor_version,
        "tables": len(tables),
        "table_rows": sum(len(t.get("rows", [])) for t in tables),
        "dimensions": _count(result, "dimensions"),
        "text_blocks": _count(result, "text_blocks"),
        "layers": _count(result, "layers"),
        "blocks": _count(result, "blocks"),
        "warnings": len(result.get("warnings") or []),
    }
    meta = result.get("metadata") or {}
    for name in ("page_count", "entity_count"):
        if isinstance(meta.get(name), int):
            metadata[name] = meta[name]
    if result.get("warnings"):
        metadata["warning_text"] = MetadataValue.md("\n".join(f"- {w}" for w in result["warnings"]))
    title_block = result.get("title_block")
    if title_block:
        fields = {k: str(v) for k, v in title_block.items() if v and k != "custom_fields"}
        fields.update({k: str(v) for k, v in (title_block.get("custom_fields") or {}).items()})
        if fields:
            metadata["title_block"] = MetadataValue.table(
                records=[TableRecord({"field": k, "value": v}) for k, v in fields.items()],
                schema=TableSchema(columns=[TableColumn("field", "string"), TableColumn("value", "string")]),
            )
    return metadata
