"""The production dagster.yaml (dagster-postgres, queued coordinator, run monitoring) against the real server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

from extraction_pipeline.defs.extraction.assets import ASSET_NAME
from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline_tests.conftest import _fresh_postgres_database
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.harness import Pipeline, pipeline_env

REPO_ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.postgres


def test_production_instance_records_a_real_materialization_in_postgres(
    monkeypatch,
    tmp_path: Path,
    postgres_server_url: str,
    moto_endpoint: str,
    bucket: str,
    s3,
) -> None:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", _fresh_postgres_database(postgres_server_url))
    jobs_url = _fresh_postgres_database(postgres_server_url)
    from extraction_pipeline.store.migrate import upgrade_database

    upgrade_database(jobs_url)
    for name, value in pipeline_env(moto_endpoint, bucket, jobs_url).items():
        monkeypatch.setenv(name, value)
    s3.put_object(Bucket=bucket, Key="prod/bracket.dxf", Body=build_drawing_dxf(tmp_path / "b.dxf").read_bytes())

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.run_monitoring_enabled
        assert instance.run_retries_max_retries == 1
        pipeline = Pipeline(instance)
        [request] = pipeline.tick().run_requests
        result = pipeline.run(request.partition_key, dict(request.tags))
        assert result.success

        event = instance.get_latest_materialization_event(AssetKey(ASSET_NAME))
        assert event is not None and event.run_id == result.run_id
        assert event.asset_materialization.partition == request.partition_key
        assert request.partition_key in instance.get_dynamic_partitions("extraction_files")
        assert instance.get_run_by_id(result.run_id).is_success

    row = JobStore(jobs_url).get(f"s3://{bucket}/prod/bracket.dxf")
    assert row.status is JobStatus.COMPLETED and row.dagster_run_id == result.run_id
