"""When a run leaves a file alone because its job was cancelled, and how it then ends.

``jobs cancel`` makes the row ``cancelled`` and stops the file's runs; a run can still start, or finish an
extraction, after that (the queue let it go at that very moment, a run worker was starting, a terminate came
late). Such a run finds the row cancelled and must neither extract, nor write the row, nor end failed: it ends
``CANCELED``, so that the row, the run and the partition say the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dagster import AssetExecutionContext, Failure

from extraction_pipeline.defs.extraction.outcomes import cancelled_observation
from extraction_pipeline.names import RETRY_REASON, TAG_REASON
from extraction_pipeline.store import JobStatus, JobStore, StoredJob
from extraction_pipeline.store.store import with_db_retries


class CancelledMeanwhile:
    """The outcome of a file whose row was cancelled after the run read it: nothing was extracted."""


CANCELLED_MEANWHILE = CancelledMeanwhile()


def cancel_applies_to_run(context: AssetExecutionContext, row: StoredJob) -> bool:
    """Whether this run must leave a ``cancelled`` job alone.

    A cancel stops every run of the file created before it (queued, starting or running when the operator
    cancelled), and sensor runs whenever they come (the sensors leave a cancelled job alone). A run created after
    the cancel by an operator (`jobs retry`, the UI's Materialize) is a new request, and extracts.
    """
    reason = context.run.tags.get(TAG_REASON)
    if reason is not None and reason != RETRY_REASON:
        return True
    record = context.instance.get_run_record_by_id(context.run.run_id)
    created = record.create_timestamp if record is not None else None
    return created is None or row.completed_at is None or row.completed_at >= created


def stop_as_cancelled(context: AssetExecutionContext, row: StoredJob, *, before_start: bool = True) -> Failure:
    """End this run ``CANCELED`` (not failed): its file's job was cancelled (before it started, or while its
    extraction ran; then the result is dropped, not written).

    Dagster ends a run whose step failed while the run is ``CANCELING`` as ``CANCELED``
    (``execute_run_iterator``), and a cancelled run leaves its partition neither failed nor in progress; so the
    run, its partition and the row agree. The partition keeps its last materialization, if it had one.
    """
    how = "found its job cancelled and " + ("did not extract" if before_start else "dropped its extraction")
    message = f"{row.file_url}: run {context.run.run_id} {how} (job {row.id})"
    context.instance.report_run_canceling(context.run, message=message)
    context.log_event(cancelled_observation(context.asset_key, row.partition_key, job_id=row.id,
                                            run_id=context.run.run_id, how=how))  # fmt: skip
    return Failure(description=message, allow_retries=False)


def cancelled_rows(store: JobStore, files: Sequence[Any]) -> dict[str, StoredJob]:
    """Partition key → row, for those of a run's ``files`` (``RunFile``) whose row is now ``cancelled``."""
    rows = with_db_retries(lambda: store.find_many([item.ref.file_url for item in files]))
    return {item.partition_key: row for item in files
            if (row := rows.get(item.ref.file_url)) and row.status is JobStatus.CANCELLED}  # fmt: skip
