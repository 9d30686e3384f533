"""What the Dagster UI shows on a file's partition: its materialization's metadata, or why it did not materialize.

A materialization carries what an operator wants at a glance (format, sizes, counts, the title block) and the
row behind it. A failed step only says "Run … failed" on the partition; an ``AssetObservation`` on the same
partition puts the error kind, type and message (and the command that shows the whole row) where the operator
looks, and marks a cancelled file as cancelled rather than leaving it indistinguishable from one that never ran.
"""

from __future__ import annotations

from typing import Any

from dagster import AssetKey, AssetObservation, MetadataValue, TableColumn, TableRecord, TableSchema

from extraction_pipeline.errors import ExtractionError
from extraction_pipeline.names import jobs_show_command
from extraction_pipeline.result_summary import dimension_table_metadata
from extraction_pipeline.store import FileExtraction

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
    asset_key: AssetKey,
    partition_key: str,
    *,
    job_id: str | None,
    run_id: str,
    how: str = "was terminated before the file was extracted",
) -> AssetObservation:
    return AssetObservation(
        asset_key=asset_key,
        partition=partition_key,
        description=f"cancelled: run {run_id} {how}",
        metadata={"status": STATUS_CANCELLED, "run_id": run_id, **row_link_metadata(job_id)},
    )


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
    metadata.update(dimension_table_metadata(result))
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
