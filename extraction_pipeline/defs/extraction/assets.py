"""The per-file extraction asset: one dynamic partition per S3 object, one row per file.

A run covers one partition (an upload) or a range of them (a burst, a bulk import's backfill); the run engine
(``engine.py``) extracts every count the same way and is the one writer of the rows. The op-level
``RetryPolicy`` only catches what escapes the engine (a row write that outlasted its retries, for instance),
and ``mark_row_failed`` is the hook that closes the row when even that gives up.
"""

import warnings
from collections.abc import Iterator

from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetOut,
    BackfillPolicy,
    Backoff,
    BetaWarning,
    Failure,
    HookContext,
    Jitter,
    MaterializeResult,
    RetryPolicy,
    failure_hook,
    multi_asset,
)

from extraction_pipeline import settings
from extraction_pipeline.defs.extraction.checks import check_specs, file_checks
from extraction_pipeline.defs.extraction.engine import ExtractionRun
from extraction_pipeline.defs.extraction.partitions import extraction_partitions, object_for_partition
from extraction_pipeline.defs.resources import ExtractionSettings, JobStoreResource, S3ClientResource
from extraction_pipeline.errors import ErrorKind
from extraction_pipeline.extractors.registry import declared_versions
from extraction_pipeline.extractors.schema import SCHEMA_VERSION
from extraction_pipeline.names import ASSET_NAME, PARTITION_TAG
from extraction_pipeline.objects import ObjectRef
from extraction_pipeline.store import JobStatus, JobStore

# backfill_policy is a beta parameter we use on purpose: its warning would fill every log that loads the code.
warnings.filterwarnings("ignore", category=BetaWarning, message="Parameter `backfill_policy`")
BATCH_SIZE = settings.backfill_batch_size()


def _code_version() -> str:
    versions = ",".join(f"{name}-{version}" for name, version in sorted(declared_versions().items()))
    return f"schema-{SCHEMA_VERSION};{versions}"


@failure_hook(required_resource_keys={"job_store"})
def mark_row_failed(context: HookContext) -> None:
    """After the step's final failure, close a row that is still active (e.g. its write kept failing)."""
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
    # A multi-asset that can subset is how Dagster lets a step leave a check without result: the drawing text
    # check has nothing to say about a DXF, IFC or STEP file, so those files get no result rather than "passed".
    can_subset=True,
    # Backfills (bulk imports, re-extraction after an upgrade) run BATCH_SIZE files per run: one run per file
    # costs a process start and a Dagster run each. A batch records each file's own materialization.
    backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=BATCH_SIZE),
)
def file_extraction(
    context: AssetExecutionContext,
    s3: S3ClientResource,
    job_store: JobStoreResource,
    extraction_settings: ExtractionSettings,
) -> Iterator[AssetMaterialization | MaterializeResult | AssetCheckResult | AssetCheckEvaluation]:
    store = job_store.get_store()
    if ASSET_NAME not in context.op_execution_context.selected_output_names and len(context.partition_keys) == 1:
        # Only checks were selected ("Execute" on a check in the UI): re-check the stored result, extract nothing.
        yield from _checks_of_stored_result(store, object_for_partition(context.partition_key))
        return
    yield from ExtractionRun(context, s3.get_client(), store, extraction_settings).events()


def _checks_of_stored_result(store: JobStore, ref: ObjectRef) -> Iterator[AssetCheckResult]:
    row = store.get(ref.file_url)
    if row.status is not JobStatus.COMPLETED or row.result is None:
        raise Failure(description=f"{ref.file_url} has no extraction to check (its job is {row.status.value})",
                      allow_retries=False)  # fmt: skip
    yield from file_checks(row.result, file_size=row.file_size or 0, file_format=row.format or "")
