"""Property-based fuzz of the API's OpenAPI document (schemathesis) against a real uvicorn server, the store on
SQLite and on PostgreSQL: on any generated request — valid or not — no 5xx, only documented statuses, and bodies
that match the documented models. The example count per operation is bounded so the run takes about a minute.

Upstream 5xx are documented (502/503) but none may appear here: the database and S3 are up and the scripted
Dagster owns the bucket, so a 5xx could only be the API's own failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from extraction_pipeline.objects import RecordLink
from extraction_pipeline.store import JobStore
from extraction_pipeline_tests.api_harness import READ_WRITE, Api, api_for, register

EXAMPLES_PER_OPERATION = 25  # per operation and mode (valid, invalid input)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api(store: JobStore, bucket: str, moto_endpoint: str) -> Iterator[Api]:
    with api_for(store, bucket, moto_endpoint) as running:
        register(running, "seed/done.pdf", status="completed", link=RecordLink("rec-1", "f", "att-1"))
        register(running, "seed/failed.dxf", status="failed")
        register(running, "seed/pending.step")
        yield running


def test_no_server_error_and_only_documented_answers(api: Api) -> None:
    # Driven with hypothesis directly (schemathesis' pytest plugin does not run under this pytest).
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    headers = {"Authorization": f"Bearer {READ_WRITE}"}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            def fuzz(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            fuzz()
