"""Tick any of the code location's sensors the way the daemon does: evaluate, then apply its partition requests.

``apply=False`` models a daemon that died after the sensor returned and before it stored the result: no
partitions, no runs, no cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dagster import DagsterInstance, RunRequest, SensorDefinition, SensorResult, build_sensor_context


@dataclass
class SensorTick:
    result: Any
    cursor: str | None
    run_requests: list[RunRequest] = field(default_factory=list)
    added_partitions: list[str] = field(default_factory=list)


@dataclass
class SensorDriver:
    sensor: SensorDefinition
    instance: DagsterInstance
    resources: dict[str, Any]
    cursor: str | None = None
    history: list[SensorTick] = field(default_factory=list)

    def tick(self, *, apply: bool = True) -> SensorTick:
        with build_sensor_context(instance=self.instance, cursor=self.cursor, resources=self.resources) as context:
            result = self.sensor(context)
            tick = SensorTick(result=result, cursor=context.cursor)
        if isinstance(result, SensorResult):
            tick.cursor = result.cursor
            tick.run_requests = list(result.run_requests or [])
            tick.added_partitions = [k for r in result.dynamic_partitions_requests or [] for k in r.partition_keys]
            if apply:
                for request in result.dynamic_partitions_requests or []:
                    self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        if apply:
            self.cursor = tick.cursor
            self.history.append(tick)
        return tick
