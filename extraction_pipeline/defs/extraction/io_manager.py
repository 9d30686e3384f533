"""Writes each extraction into its ``extraction_jobs`` row, and reads it back for downstream assets."""

from typing import Any

from dagster import ConfigurableIOManager, InputContext, OutputContext, ResourceDependency

from extraction_pipeline.defs.extraction.partitions import object_for_partition
from extraction_pipeline.defs.extraction.processing import FileExtraction, record_completion
from extraction_pipeline.defs.resources import JobStoreResource
from extraction_pipeline.store.store import with_db_retries


class ExtractionJobIOManager(ConfigurableIOManager):
    """Upsert-by-``file_url`` writer: ``completed``, ``result``, ``duration_ms``, ``extractor_version``.

    A transient database error is retried here (``db_attempts`` times with backoff) rather than failing the
    step, because a failed ``handle_output`` makes Dagster re-run the whole extraction.
    """

    job_store: ResourceDependency[JobStoreResource]
    db_attempts: int = 5
    db_retry_delay_seconds: float = 0.5

    def handle_output(self, context: OutputContext, obj: FileExtraction) -> None:
        store = self.job_store.get_store()
        ref = object_for_partition(context.asset_partition_key)
        with_db_retries(
            lambda: record_completion(store, ref, obj),
            attempts=self.db_attempts,
            delay_seconds=self.db_retry_delay_seconds,
        )

    def load_input(self, context: InputContext) -> dict[str, Any] | None:
        row = self.job_store.get_store().get(object_for_partition(context.asset_partition_key).file_url)
        return row.result
