"""The code location loads, with the shape the design card fixes."""

from __future__ import annotations

from dagster import AssetKey, DefaultSensorStatus, Definitions, DynamicPartitionsDefinition

from extraction_pipeline.definitions import defs
from extraction_pipeline.extractors.registry import declared_versions
from extraction_pipeline.names import ASSET_NAME, JOB_NAME


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
    assert set(declared_versions()) == {"pdf", "dxf", "ifc", "step", "werk24", "image"}


def test_sensor_runs_by_default_and_targets_the_named_job() -> None:
    sensor = defs.resolve_sensor_def("s3_upload_sensor")
    assert sensor.default_status is DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 30
    assert [target.job_name for target in sensor.targets] == [JOB_NAME]


def test_one_named_job_materializes_the_asset_and_its_partitioned_checks() -> None:
    job = defs.resolve_job_def(JOB_NAME)
    asset = defs.resolve_assets_def(AssetKey(ASSET_NAME))
    assert job.asset_layer.selected_asset_keys == {AssetKey(ASSET_NAME)}
    assert job.partitions_def == asset.partitions_def
    assert {spec.name: spec.partitions_def for spec in asset.check_specs} == {
        "result_matches_schema": asset.partitions_def,
        "drawing_text_was_read": asset.partitions_def,
    }
    # Every sensor that launches extraction runs launches them under the named job.
    launching = [s for s in defs.sensors if s.targets]
    assert launching and {t.job_name for s in launching for t in s.targets} == {JOB_NAME}
