"""``extraction-pipeline db upgrade`` says what it did, and ``doctor`` checks an environment one line per check.

Run as the production guide gives the commands, in a subprocess with only the documented variables set, against
SQLite and the PostgreSQL server (a database of our own, ``firststeps_…``), a real S3 API (moto server).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from extraction_pipeline.store.migrate import downgrade_database, head_revision
from extraction_pipeline_tests.test_cli import CREDENTIALS, closed_port, run_cli

FIRST = "0001_create_extraction_jobs"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    name = f"firststeps_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_db_upgrade_says_what_it_did(tmp_path: Path, empty_database: str) -> None:
    env = {"EXTRACTION_DATABASE_URL": empty_database}
    shown = make_url(empty_database).render_as_string(hide_password=True)
    head = head_revision()

    created = run_cli("db", "upgrade", cwd=tmp_path, env=env)
    again = run_cli("db", "upgrade", cwd=tmp_path, env=env)
    downgrade_database(empty_database, FIRST)
    upgraded = run_cli("db", "upgrade", cwd=tmp_path, env=env)

    assert created.code == again.code == upgraded.code == 0, (created.err, again.err, upgraded.err)
    assert created.out.strip() == f"created table extraction_jobs at revision {head} in {shown}"
    assert again.out.strip() == f"extraction_jobs is already at revision {head}, the newest: nothing to do in {shown}"
    assert upgraded.out.strip() == f"upgraded extraction_jobs from revision {FIRST} to {head} in {shown}"


def _lines(out: str) -> dict[str, str]:
    """``{check name: "ok|FAIL|skip rest of the line"}``."""
    rows = [line.split(None, 2) for line in out.splitlines()]
    return {name: f"{status} {rest}" for status, name, rest in rows}


def test_doctor_passes_on_a_working_environment(tmp_path: Path, moto_endpoint: str, bucket: str) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    env = CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": bucket,
                         "EXTRACTION_DATABASE_URL": url}  # fmt: skip
    assert run_cli("db", "upgrade", cwd=tmp_path, env=env).code == 0

    outcome = run_cli("doctor", cwd=tmp_path, env=env)

    assert outcome.code == 0, outcome.out + outcome.err
    assert _lines(outcome.out) == {
        "database": f"ok {url}: at revision {head_revision()}, the newest",
        "s3": f"ok bucket {bucket} answers at {moto_endpoint}",
        "dagster": "skip EXTRACTION_DAGSTER_URL is unset: set it to check the webserver",
    }


def test_doctor_names_each_failure_in_one_line_and_exits_13(tmp_path: Path, moto_endpoint: str) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    base = {"EXTRACTION_DATABASE_URL": url}
    assert run_cli("db", "upgrade", cwd=tmp_path, env=base).code == 0
    downgrade_database(url, FIRST)
    dagster = f"http://127.0.0.1:{closed_port()}/graphql"
    env = base | CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "EXTRACTION_S3_BUCKET": "no-such-bucket",
                                "EXTRACTION_DAGSTER_URL": dagster}  # fmt: skip

    outcome = run_cli("doctor", cwd=tmp_path, env=env)

    assert outcome.code == 13 and "Traceback" not in outcome.err
    lines = _lines(outcome.out)
    assert lines["database"].startswith(f"FAIL extraction_jobs is at revision {FIRST}, not at the newest")
    assert lines["database"].endswith("fix: run `extraction-pipeline db upgrade`")
    assert lines["s3"].startswith("FAIL bucket 'no-such-bucket' does not exist at the S3 endpoint")
    assert lines["dagster"].startswith(f"FAIL cannot reach the Dagster webserver at {dagster}")
    assert len(outcome.out.splitlines()) == 3
