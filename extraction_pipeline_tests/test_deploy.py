"""deploy/: instance files through Dagster's own config validation, Helm values against the chart's schema.

There is no cluster here. The run launchers (dagster-k8s, dagster-aws) are installed, so each instance file is
validated by Dagster's instance schema and by the launcher class's own ``config_type``; the Helm values are
checked against an attributed excerpt of the official chart's published ``values.schema.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from dagster import Definitions
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.launcher import RunLauncher
from dagster._serdes.config_class import class_from_code_pointer

from extraction_pipeline.definitions import build_resources
from extraction_pipeline.defs.extraction.assets import file_extraction
from extraction_pipeline.defs.extraction.executors import extraction_executor

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
HELM_SCHEMA = DEPLOY / "helm" / "values.schema.excerpt.json"


def launcher_config_errors(instance_file: Path) -> list[str]:
    """Validate the whole instance file, then its run launcher's config with the launcher's own schema."""
    config, _ = dagster_instance_config(str(instance_file.parent), instance_file.name)
    launcher = config["run_launcher"]
    launcher_class = class_from_code_pointer(launcher["module"], launcher["class"])
    assert issubclass(launcher_class, RunLauncher)
    outcome = validate_config(launcher_class.config_type(), launcher.get("config") or {})
    return [error.message for error in outcome.errors or []]


@pytest.mark.parametrize(
    ("instance_file", "launcher_class"),
    [("k8s/dagster.yaml", "K8sRunLauncher"), ("ecs/dagster.yaml", "EcsRunLauncher")],
)
def test_instance_files_pass_dagsters_validation(instance_file: str, launcher_class: str) -> None:
    path = DEPLOY / instance_file
    assert yaml.safe_load(path.read_text())["run_launcher"]["class"] == launcher_class
    assert launcher_config_errors(path) == []


def test_a_wrong_launcher_setting_is_caught(tmp_path: Path) -> None:
    config = yaml.safe_load((DEPLOY / "k8s" / "dagster.yaml").read_text())
    config["run_launcher"]["config"]["job_namesapce"] = config["run_launcher"]["config"].pop("job_namespace")
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    errors = launcher_config_errors(tmp_path / "dagster.yaml")
    assert any("job_namesapce" in error for error in errors), errors


def _undeclared_keys(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "") -> list[str]:
    """Keys set in ``value`` that the schema does not declare at that place (a typo would be silently ignored)."""
    if "$ref" in schema:
        return _undeclared_keys(value, _resolve(root, schema["$ref"]), root, path)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if _matches_type(value, s, root)]
        return _undeclared_keys(value, options[0], root, path) if options else []
    found: list[str] = []
    if isinstance(value, dict) and "properties" in schema and schema["properties"]:
        for key, item in value.items():
            if key not in schema["properties"]:
                found.append(f"{path}/{key}")
            else:
                found.extend(_undeclared_keys(item, schema["properties"][key], root, f"{path}/{key}"))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found.extend(_undeclared_keys(item, schema["items"], root, f"{path}[{index}]"))
    return found


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _matches_type(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    if "$ref" in schema:
        schema = _resolve(root, schema["$ref"])
    expected = schema.get("type")
    kinds = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool, "null": type(None)}
    return expected is None or isinstance(value, kinds.get(expected, object))


def helm_problems(values: dict[str, Any]) -> list[str]:
    schema = json.loads(HELM_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(values)]
    return problems + [f"{key}: not in the chart's schema" for key in _undeclared_keys(values, schema, schema)]


def test_helm_values_match_the_charts_published_schema() -> None:
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    assert helm_problems(values) == []
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", _code_location_module()]
    assert values["runLauncher"]["type"] == "K8sRunLauncher" and values["postgresql"]["enabled"] is False


def test_helm_check_catches_a_misspelt_key_and_a_wrong_type() -> None:
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    values["dagster-user-deployments"]["deployments"][0]["dagsterApiGrpcArg"] = ["-m", "x"]
    values["runLauncher"]["config"]["k8sRunLauncher"]["loadInclusterConfig"] = "yes"
    problems = helm_problems(values)
    assert "/dagster-user-deployments/deployments[0]/dagsterApiGrpcArg: not in the chart's schema" in problems
    # (under anyOf, jsonschema reports the enclosing object; the 'yes' is what makes it invalid)
    assert any(p.startswith("runLauncher/config/k8sRunLauncher: ") and "'yes'" in p for p in problems), problems


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


def test_dockerfile_installs_declared_extras_and_serves_the_code_location() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '".[k8s,celery]"' in dockerfile
    assert re.search(r'^k8s = \["dagster-k8s==0\.29\.27"\]$', pyproject, re.M)
    assert re.search(r'^celery = \["dagster-celery==0\.29\.27"\]$', pyproject, re.M)
    assert f'"-m", "{_code_location_module()}"]' in dockerfile


def _code_location_module() -> str:
    match = re.search(r'^module_name = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert match is not None
    return match.group(1)
