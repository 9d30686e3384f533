"""Reads a file's stored result back from its ``extraction_jobs`` row, for downstream assets.

It writes nothing: the run engine writes the rows (``engine.py``). Dagster calls ``handle_output`` once per
output, and the output of a run over a range of partitions materializes every partition of the range, the
files that failed included; so per-file outcomes cannot go through it, and ``file_extraction`` reports a
file's success with a ``MaterializeResult`` (no value, no IO manager call) or an ``AssetMaterialization``.
"""

from typing import Any

from dagster import ConfigurableIOManager, InputContext, OutputContext, ResourceDependency

from extraction_pipeline.defs.extraction.partitions import object_for_partition
from extraction_pipeline.defs.resources import JobStoreResource


class ExtractionJobIOManager(ConfigurableIOManager):
    """Loads ``file_extraction``'s stored result (the row's ``result`` JSON) as a downstream asset's input."""

    job_store: ResourceDependency[JobStoreResource]

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        raise TypeError(
            f"{context.asset_key.to_user_string()}: the run engine writes extraction results into extraction_jobs; "
            "report a file with MaterializeResult (no value) instead of an Output"
        )

    def load_input(self, context: InputContext) -> dict[str, Any] | None:
        row = self.job_store.get_store().get(object_for_partition(context.asset_partition_key).file_url)
        return row.result
