"""The chaos run's fault tools do what they claim: the proxy's 503 window, a private PostgreSQL that dies and
comes back (``faults.TcpProxy.slow_down``, ``private_postgres.PrivatePostgres``)."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from extraction_pipeline_tests.conftest import REQUIRE_POSTGRES
from extraction_pipeline_tests.faults import TcpProxy
from extraction_pipeline_tests.live_stack import wait_for
from extraction_pipeline_tests.private_postgres import PostgresUnavailable, PrivatePostgres


def test_slow_down_answers_every_request_503_until_lifted(moto_endpoint: str, bucket: str) -> None:
    host, port = moto_endpoint.removeprefix("http://").split(":")
    proxy = TcpProxy(host, int(port))
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{proxy.port}", region_name="us-east-1",
                          config=Config(retries={"max_attempts": 1, "mode": "standard"}))  # fmt: skip
    try:
        client.put_object(Bucket=bucket, Key="a.txt", Body=b"a")  # opens a kept-alive connection
        proxy.slow_down(True)
        for _ in range(3):  # the live connection was cut: nothing slips past
            with pytest.raises(ClientError) as refused:
                client.get_object(Bucket=bucket, Key="a.txt")
            assert refused.value.response["Error"]["Code"] == "SlowDown"
        proxy.slow_down(False)
        assert client.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"a"
    finally:
        proxy.close()


def test_private_postgres_dies_on_sigkill_and_comes_back_with_its_data() -> None:
    try:
        server = PrivatePostgres()
    except (PostgresUnavailable, OSError) as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"EXTRACTION_REQUIRE_POSTGRES=1 but {error}")
        pytest.skip(str(error))
    try:
        server.start()
        engine = create_engine(server.create_database("chaos_probe"), pool_pre_ping=True)
        with engine.begin() as connection:
            connection.execute(text("create table t (n int)"))
            connection.execute(text("insert into t values (1)"))
        server.kill()
        wait_for("the server to refuse connections", lambda: not _connects(engine), timeout=30)
        server.restart()
        with engine.connect() as connection:
            assert connection.execute(text("select n from t")).scalar_one() == 1
        engine.dispose()
    finally:
        server.stop()


def _connects(engine: Engine) -> bool:
    engine.dispose()  # a new connection each time: an old backend may outlive its postmaster for a moment
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError:
        return False
    return True
