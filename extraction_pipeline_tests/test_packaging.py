"""A production install (``pip install .``) brings what production runs and nothing of the dev stack or the tests.

The runtime requirements of ``pyproject.toml`` are followed through the metadata of the installed distributions
(their own requirements, markers and extras evaluated), as pip would resolve them in this environment.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the CI's interpreter

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
# What only the local stack (moto's S3 server and its Flask app) or the tests need.
DEV_ONLY = {"moto", "flask", "flask-cors", "pytest", "pytest-cov", "hypothesis", "ruff", "schemathesis", "fpdf2"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", requirement).lower()


def runtime_closure(requirements: list[str]) -> set[str]:
    """Every distribution the requirements pull in here, extras included."""
    seen: dict[str, set[str]] = {}
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name, extras = _name(requirement.name), set(requirement.extras)
        if name in seen and extras <= seen[name]:
            continue
        seen.setdefault(name, set()).update(extras)
        for text in metadata.distribution(requirement.name).requires or []:
            child = Requirement(text)
            environments = [{"extra": extra} for extra in (extras or {""})]
            if child.marker is None or any(child.marker.evaluate(env) for env in environments):
                todo.append(child)
    return set(seen)


def test_the_runtime_requirements_leave_the_dev_stack_and_the_tests_out() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]

    runtime = runtime_closure(project["dependencies"])

    assert sorted(runtime & DEV_ONLY) == []
    assert {"dagster", "dagster-webserver", "dagster-postgres", "boto3", "alembic", "fastapi"} <= runtime
    assert any(_name(Requirement(text).name) == "moto" for text in project["optional-dependencies"]["dev"])
