"""The code location loads, with the shape the design card fixes."""

from __future__ import annotations

from dagster import AssetKey, DefaultSensorStatus, Definitions, DynamicPartitionsDefinition

from extraction_pipeline.asset import ASSET_NAME
from extraction_pipeline.definitions import defs
from extraction_pipeline.extractors.registry import declared_versions


def test_definitions_load() -> None:
    Definitions.validate_loadable(defs)


def test_asset_is_dynamically_partitioned_with_a_retry_policy_and_extractor_code_version() -> None:
    asset = defs.resolve_assets_def(AssetKey(ASSET_NAME))
    assert isinstance(asset.partitions_def, DynamicPartitionsDefinition)
    assert asset.partitions_def.name == "extraction_files"
    policy = asset.op.retry_policy
    assert policy is not None and policy.max_retries == 3 and policy.delay == 30
    code_version = asset.code_versions_by_key[AssetKey(ASSET_NAME)]
    for name, version in declared_versions().items():
        assert f"{name}-{version}" in code_version
    assert set(declared_versions()) == {"pdf", "dxf", "ifc", "step", "werk24"}


def test_sensor_runs_by_default_and_targets_the_asset() -> None:
    sensor = defs.resolve_sensor_def("s3_upload_sensor")
    assert sensor.default_status is DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 30
    assert next(t.assets_defs for t in sensor.targets)[0].key == AssetKey(ASSET_NAME)
