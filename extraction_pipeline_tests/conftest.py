"""Shared fixtures: a real S3 HTTP API (moto server on loopback), the real PostgreSQL server, SQLite.

PostgreSQL: ``EXTRACTION_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``). Each
test session creates its own throw-away database on that server. Without a server the PostgreSQL tests are
skipped with the reason printed in the summary — unless ``EXTRACTION_REQUIRE_POSTGRES=1`` (CI), where they fail.
Real-world files (``../shared/realworld``): the same rule with ``EXTRACTION_REQUIRE_SHARED=1``, through
``extraction_pipeline_tests.realworld.realworld_path`` and the ``realworld_dir`` fixture.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from dagster import DagsterInstance, instance_for_test
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from extraction_pipeline.store import JobStore
from extraction_pipeline.store.migrate import upgrade_database
from extraction_pipeline_tests.harness import Pipeline, pipeline_env
from extraction_pipeline_tests.realworld import realworld_path

# The plain form the README documents: no driver suffix, as a user writes it.
POSTGRES_URL = os.environ.get("EXTRACTION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("EXTRACTION_REQUIRE_POSTGRES") == "1"

# Credentials for the moto server only; set before any boto3 client exists.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_REGION", "us-east-1")  # the README's variable, not boto3's AWS_DEFAULT_REGION
os.environ.pop("AWS_PROFILE", None)
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto server's access log


def _postgres_unavailable_reason() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means "no server here"
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(error).__name__}: {str(error).splitlines()[0]}"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a fresh database on the PostgreSQL server, dropped at the end of the session."""
    reason = _postgres_unavailable_reason()
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(f"EXTRACTION_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    name = f"extraction_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            for database in [name, *_CREATED_DATABASES]:  # the server is shared: leave nothing behind
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        _CREATED_DATABASES.clear()
        admin.dispose()


_CREATED_DATABASES: list[str] = []


def _fresh_postgres_database(server_url: str) -> str:
    name = f"extraction_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _CREATED_DATABASES.append(name)
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated extraction_jobs database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    else:
        url = _fresh_postgres_database(request.getfixturevalue("postgres_server_url"))
    upgrade_database(url)
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[JobStore]:
    job_store = JobStore(database_url)
    yield job_store
    job_store.dispose()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real S3 HTTP API on 127.0.0.1 (moto server mode), for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    """A new, empty bucket per test."""
    name = f"uploads-{uuid.uuid4().hex[:12]}"
    s3_client(moto_endpoint).create_bucket(Bucket=name)
    return name


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def s3(moto_endpoint: str):
    return s3_client(moto_endpoint)


@pytest.fixture
def realworld_dir() -> Path:
    """PyBase's real-world files: skipped when absent, a failure under ``EXTRACTION_REQUIRE_SHARED=1``."""
    return realworld_path("pybase")


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    """A throw-away Dagster instance (SQLite storage in a temp dir)."""
    with instance_for_test() as dagster_instance:
        yield dagster_instance


@pytest.fixture
def pipeline(monkeypatch, moto_endpoint, bucket, database_url, instance) -> Pipeline:
    """The code location's sensor and asset, configured for this test's bucket and table."""
    for name, value in pipeline_env(moto_endpoint, bucket, database_url).items():
        monkeypatch.setenv(name, value)
    return Pipeline(instance)
