"""The "Running in production" steps of docs/production.md, as a user pastes them: plain ``postgresql://`` URLs,
the repo's unmodified ``dagster.yaml`` and ``workspace.yaml`` in ``DAGSTER_HOME``, the bucket created, ``extraction-
pipeline db upgrade`` through the installed command, then ``dagster-webserver -w workspace.yaml`` and one
``dagster-daemon run -w workspace.yaml`` as separate processes started from ``DAGSTER_HOME``, ``extraction-pipeline
doctor`` and ``extraction-pipeline upload --wait``: the upload must reach ``completed`` and its run ``SUCCESS``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster_postgres import PostgresRunStorage
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from extraction_pipeline.store import JobStatus, JobStore
from extraction_pipeline_tests.conftest import _fresh_postgres_database, s3_client
from extraction_pipeline_tests.extractors.dxf_builders import build_drawing_dxf
from extraction_pipeline_tests.live_stack import (
    answers,
    assert_servers_stopped_cleanly,
    free_port,
    stop_process_groups,
    wait_for,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_SECONDS = 120.0
COMPLETION_TIMEOUT_SECONDS = 180.0

pytestmark = pytest.mark.postgres


def _user_shell_env(**settings: str) -> dict[str, str]:
    """A fresh shell: nothing of ours exported except what the README tells the user to set."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("EXTRACTION_", "DAGSTER_", "AWS_", "COV_", "COVERAGE_"))
    }
    return {**inherited, **settings}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "extraction-pipeline"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMPLETION_TIMEOUT_SECONDS + 60,
    )


def _as_postgres_alias(url: str) -> str:
    assert url.startswith("postgresql://"), url  # the fixture hands out the plain form
    return "postgres://" + url[len("postgresql://") :]


def test_postgres_alias_urls_work_for_the_jobs_table_and_the_dagster_instance(
    tmp_path: Path, postgres_server_url: str
) -> None:
    """``postgres://`` (Heroku-style) reaches psycopg2 in both our table code and dagster-postgres."""
    jobs_url = _as_postgres_alias(_fresh_postgres_database(postgres_server_url))
    completed = subprocess.run(
        [str(BIN / "extraction-pipeline"), "db", "upgrade"],
        env=_user_shell_env(EXTRACTION_DATABASE_URL=jobs_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    store = JobStore(jobs_url)
    assert store.engine.dialect.driver == "psycopg2"
    assert store.stats().total == 0
    store.dispose()

    shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    dagster_url = _as_postgres_alias(_fresh_postgres_database(postgres_server_url))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_POSTGRES_URL", dagster_url)
        with DagsterInstance.from_config(str(tmp_path)) as instance:
            assert isinstance(instance.run_storage, PostgresRunStorage)
            assert instance.get_runs_count() == 0


@pytest.mark.slow
def test_readme_production_steps_bring_an_upload_to_completed(
    tmp_path: Path, postgres_server_url: str, moto_endpoint: str
) -> None:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    for name in ("dagster.yaml", "workspace.yaml"):  # unmodified, as the README says
        shutil.copy(REPO_ROOT / name, dagster_home / name)
    dagster_postgres_url = _fresh_postgres_database(postgres_server_url)
    jobs_url = _fresh_postgres_database(postgres_server_url)
    assert dagster_postgres_url.startswith("postgresql://") and jobs_url.startswith("postgresql://")
    bucket = "production-uploads"
    s3 = s3_client(moto_endpoint)
    s3.create_bucket(Bucket=bucket)
    port = free_port()
    env = _user_shell_env(
        DAGSTER_HOME=str(dagster_home),
        DAGSTER_POSTGRES_URL=dagster_postgres_url,
        EXTRACTION_DATABASE_URL=jobs_url,
        EXTRACTION_S3_BUCKET=bucket,
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        EXTRACTION_DAGSTER_URL=f"http://127.0.0.1:{port}/graphql",
        # documented setting; the default 30 s only makes the test wait longer
        EXTRACTION_SENSOR_INTERVAL_SECONDS="5",
    )

    upgrade = subprocess.run(
        [str(BIN / "extraction-pipeline"), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
    )
    assert upgrade.returncode == 0, upgrade.stderr
    assert upgrade.stdout.startswith("created table extraction_jobs at revision "), upgrade.stdout

    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("webserver", "daemon")}
    commands = {
        "webserver": [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        "daemon": [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
    }
    processes = [
        subprocess.Popen(
            command, cwd=dagster_home, env=env, stdout=logs[name], stderr=subprocess.STDOUT, start_new_session=True
        )
        for name, command in commands.items()
    ]
    try:
        wait_for("the webserver", lambda: answers(f"http://127.0.0.1:{port}/server_info"), STARTUP_TIMEOUT_SECONDS)
        doctor = _cli(env, "doctor")
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert [line.split()[:2] for line in doctor.stdout.splitlines()] == [
            ["ok", "database"],
            ["ok", "s3"],
            ["ok", "dagster"],
        ], doctor.stdout
        drawing = build_drawing_dxf(tmp_path / "bracket.dxf")
        file_url = f"s3://{bucket}/drawings/bracket.dxf"
        timeout = str(int(COMPLETION_TIMEOUT_SECONDS))
        uploaded = _cli(env, "upload", "--wait", "--timeout", timeout, "--prefix", "drawings/", str(drawing))
        assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
        assert uploaded.stdout.splitlines()[1].startswith(f"{file_url}: completed (dxf in "), uploaded.stdout
        store = JobStore(jobs_url)
        row = store.get(file_url)
        assert row.status is JobStatus.COMPLETED, row.error_message
        assert row.result["format"] == "dxf"
        store.dispose()

        # The run is recorded in the PostgreSQL instance storage named by the plain URL.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DAGSTER_POSTGRES_URL", dagster_postgres_url)
            with DagsterInstance.from_config(str(dagster_home)) as instance:
                assert isinstance(instance.run_storage, PostgresRunStorage)
                run = instance.get_run_by_id(row.dagster_run_id)
                assert run is not None
                wait_for("the run to end", lambda: instance.get_run_by_id(run.run_id).is_finished, 60)
                assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.SUCCESS
                assert instance.get_runs_count(RunsFilter(statuses=[DagsterRunStatus.FAILURE])) == 0
        engine = create_engine(dagster_postgres_url)
        with engine.connect() as connection:
            status = connection.execute(
                text("select status from runs where run_id = :run_id"), {"run_id": row.dagster_run_id}
            ).scalar_one()
        engine.dispose()
        assert status == "SUCCESS"
        assert make_url(dagster_postgres_url).drivername == "postgresql"
    finally:
        codes = stop_process_groups(processes, timeout=30)
        for log in logs.values():
            log.close()
    assert_servers_stopped_cleanly(
        {name: tmp_path / f"{name}.log" for name in commands},
        {name: codes[process.pid] for process, name in zip(processes, commands, strict=True)},
    )
