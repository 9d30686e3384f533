"""deploy/: the Celery worker config and the distributed executors the code location can run on.

The Kubernetes path (Helm values, manifests, Dockerfile) is checked in test_deploy_kubernetes.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dagster import Definitions

from extraction_pipeline.definitions import build_resources
from extraction_pipeline.defs.extraction.assets import file_extraction
from extraction_pipeline.defs.extraction.executors import extraction_executor

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


@pytest.mark.parametrize(("mode", "executor_name"), [("celery", "celery_extraction"), ("k8s", "k8s")])
def test_code_location_loads_with_each_distributed_executor(monkeypatch, mode: str, executor_name: str) -> None:
    monkeypatch.setenv("EXTRACTION_EXECUTOR", mode)
    monkeypatch.setenv("EXTRACTION_CELERY_BROKER", "pyamqp://extraction:secret@rabbitmq.internal:5672/extraction")
    executor = extraction_executor()
    assert executor.name == executor_name
    Definitions.validate_loadable(Definitions(assets=[file_extraction], resources=build_resources(), executor=executor))
    monkeypatch.setenv("EXTRACTION_EXECUTOR", "spark")
    with pytest.raises(ValueError, match="EXTRACTION_EXECUTOR='spark'"):
        extraction_executor()


def test_dockerfile_serves_the_code_location() -> None:
    assert f'"-m", "{_code_location_module()}"]' in (DEPLOY / "Dockerfile").read_text()


def _code_location_module() -> str:
    match = re.search(r'^module_name = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert match is not None
    return match.group(1)
