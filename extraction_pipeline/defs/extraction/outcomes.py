"""What the Dagster UI shows on a file's partition when it did not materialize: failed (why) or cancelled.

A failed step only says "Run … failed" on the partition; an ``AssetObservation`` on the same partition puts the
error kind, type and message (and the command that shows the whole row) where the operator looks, and marks a
cancelled file as cancelled rather than leaving it indistinguishable from one that never ran.
"""

from __future__ import annotations

from typing import Any

from dagster import AssetKey, AssetObservation, MetadataValue

from extraction_pipeline.errors import ExtractionError
from extraction_pipeline.names import jobs_show_command

STATUS_FAILED = "failed"
STATUS_CANCELLED = "cancelled"
_MESSAGE_MAX = 2000


def row_link_metadata(job_id: str | None) -> dict[str, Any]:
    """The row behind a partition: its id and the CLI command that prints it."""
    if job_id is None:
        return {}
    return {"job_id": job_id, "jobs_show": MetadataValue.text(jobs_show_command(job_id))}


def failure_observation(
    asset_key: AssetKey,
    partition_key: str,
    error: ExtractionError,
    *,
    job_id: str | None,
    attempts: int,
    message: str | None = None,
) -> AssetObservation:
    """``message``: what the row says, when it adds to ``error.message`` (e.g. "gave up after 4 attempts")."""
    message = (message or error.message)[:_MESSAGE_MAX]
    return AssetObservation(
        asset_key=asset_key,
        partition=partition_key,
        description=f"failed ({error.kind.value}, {type(error).__name__}): {message}",
        metadata={
            "status": STATUS_FAILED,
            "error_kind": error.kind.value,
            "error_type": type(error).__name__,
            "error_message": MetadataValue.text(message),
            "attempts": attempts,
            **row_link_metadata(job_id),
        },
    )


def cancelled_observation(
    asset_key: AssetKey, partition_key: str, *, job_id: str | None, run_id: str
) -> AssetObservation:
    return AssetObservation(
        asset_key=asset_key,
        partition=partition_key,
        description=f"cancelled: run {run_id} was terminated before the file was extracted",
        metadata={"status": STATUS_CANCELLED, "run_id": run_id, **row_link_metadata(job_id)},
    )
