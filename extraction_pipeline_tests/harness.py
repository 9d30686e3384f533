"""Drive the real code location in tests: sensor ticks and runs against a Dagster instance.

Nothing here re-implements pipeline logic: ticks call the sensor itself (its partition requests applied the
way the daemon applies them), runs materialize the asset with the code location's own resources.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dagster import (
    DagsterInstance,
    ExecuteInProcessResult,
    RunRequest,
    SensorResult,
    build_sensor_context,
    materialize,
)

from extraction_pipeline.definitions import build_resources
from extraction_pipeline.defs.detection.listing_sensor import s3_upload_sensor
from extraction_pipeline.defs.extraction.assets import file_extraction


def pipeline_env(endpoint: str, bucket: str, database_url: str, **extra: str) -> dict[str, str]:
    """Environment of a code location pointed at the test's S3 endpoint, bucket and table."""
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "EXTRACTION_S3_BUCKET": bucket,
        "EXTRACTION_DATABASE_URL": database_url,
        # the plan's schedule, scaled down 600x: 0.05 s, 0.2 s, 0.8 s
        "EXTRACTION_RETRY_BASE_SECONDS": "0.05",
        "EXTRACTION_RETRY_JITTER": "0",
    }
    env.update(extra)
    return env


@dataclass
class Tick:
    result: SensorResult | Any
    cursor: str | None
    run_requests: list[RunRequest] = field(default_factory=list)
    added_partitions: list[str] = field(default_factory=list)


class Pipeline:
    """The code location's sensor and asset, run against ``instance`` with resources from the environment."""

    def __init__(self, instance: DagsterInstance) -> None:
        self.instance = instance
        self.resources = build_resources()
        self.cursor: str | None = None

    def tick(self) -> Tick:
        with build_sensor_context(instance=self.instance, cursor=self.cursor, resources=self.resources) as context:
            result = s3_upload_sensor(context)
            tick = Tick(result=result, cursor=context.cursor)
        if isinstance(result, SensorResult):
            tick.cursor = result.cursor
            for request in result.dynamic_partitions_requests or []:
                # what the daemon does with the sensor's partition requests
                self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
                tick.added_partitions.extend(request.partition_keys)
            tick.run_requests = list(result.run_requests or [])
        self.cursor = tick.cursor
        return tick

    def ticks_until_idle(self, max_ticks: int = 50) -> Iterator[Tick]:
        for _ in range(max_ticks):
            tick = self.tick()
            if not tick.run_requests:
                return
            yield tick
        raise AssertionError(f"sensor still finding files after {max_ticks} ticks")

    def run(self, partition_key: str | None, tags: dict[str, str] | None = None) -> ExecuteInProcessResult:
        """One run as the daemon launches it: a partition key, or none and range tags (a batch)."""
        return materialize(
            [file_extraction],
            partition_key=partition_key,
            resources=self.resources,
            instance=self.instance,
            tags=tags,
            raise_on_error=False,
        )

    def run_requests(self, requests: list[RunRequest]) -> list[ExecuteInProcessResult]:
        return [self.run(request.partition_key, dict(request.tags)) for request in requests]
