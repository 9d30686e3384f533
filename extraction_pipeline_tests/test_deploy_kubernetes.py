"""The Kubernetes path (deploy/helm, deploy/Dockerfile), checked at render level: no cluster, no helm binary here.

- deploy/helm/values.yaml is deep-merged onto the chart's own default values, as ``helm install -f`` does, and the
  result is validated with ``jsonschema`` against the chart's full ``values.schema.json`` (deploy/helm/chart,
  SOURCE.md there). Kubernetes types the schema takes from kubernetesjsonschema.dev resolve to an unconstrained
  schema (no network); the objects themselves are checked field by field against the ``kubernetes`` client's
  models. ``DAGSTER_CHART_DIR`` (an untarred ``helm pull dagster/dagster --version 1.13.27``) adds that chart.
- Every Secret, ConfigMap and environment variable a pod refers to is defined by what docs/kubernetes.md creates.
- Every file and command the manifests use inside the image is put there by deploy/Dockerfile.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib.metadata
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes.client
import pytest
import yaml
from click.testing import CliRunner
from dagster._core.instance.config import dagster_instance_config
from packaging.requirements import Requirement

from extraction_pipeline.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
HELM = DEPLOY / "helm"
CHART = HELM / "chart"
EXTRAS = HELM / "extras"
RELEASE, NAMESPACE = "dagster", "extraction"  # docs/kubernetes.md installs release `dagster` into `extraction`
CHART_CONFIGMAPS = {f"{RELEASE}-instance"}  # made by the chart itself
WEBSERVER_SERVICE = f"{RELEASE}-dagster-webserver"
IMAGE_APP_DIR = "/opt/dagster/app"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def helm_merge(defaults: Any, override: Any) -> Any:
    """Helm's coalescing of a -f file onto the chart's values: maps merge, null deletes a key, the rest replaces."""
    if not (isinstance(defaults, dict) and isinstance(override, dict)):
        return override
    merged = dict(defaults)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = helm_merge(defaults.get(key), value)
    return merged


@functools.cache
def _chart(chart_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    defaults_file = chart_dir / "values.defaults.yaml"
    defaults = load_yaml(defaults_file if defaults_file.exists() else chart_dir / "values.yaml")
    return json.loads((chart_dir / "values.schema.json").read_text()), defaults


def chart(chart_dir: Path = CHART) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values.schema.json, default values) of a chart directory: ours, or an untarred upstream chart."""
    return copy.deepcopy(_chart(chart_dir))


@functools.cache
def _override() -> dict[str, Any]:
    return load_yaml(HELM / "values.yaml")


def override() -> dict[str, Any]:
    return copy.deepcopy(_override())


@functools.cache
def _values() -> dict[str, Any]:
    return helm_merge(_chart(CHART)[1], _override())


def values() -> dict[str, Any]:
    return copy.deepcopy(_values())


def offline(schema: Any, keep_siblings: bool) -> Any:
    """The schema with its kubernetesjsonschema.dev references resolved to "anything".

    JSON Schema draft 7 ignores keywords next to ``$ref`` (the node becomes unconstrained); 2020-12 applies them
    (the node keeps e.g. ``"type": "array"``). Helm has used validators of both kinds: the tests check both.
    """
    if isinstance(schema, list):
        return [offline(item, keep_siblings) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if str(schema.get("$ref", "")).startswith("http"):
        return {k: offline(v, True) for k, v in schema.items() if k != "$ref"} if keep_siblings else {}
    return {key: offline(value, keep_siblings) for key, value in schema.items()}


def schema_errors(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    found: set[str] = set()
    for keep_siblings in (False, True):
        validator = jsonschema.Draft7Validator(offline(schema, keep_siblings))
        found |= {f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)}
    return sorted(found)


def undeclared_keys(
    value: Any, schema: dict[str, Any], root: dict[str, Any], defaults: Any, path: str = ""
) -> list[str]:
    """Keys neither the schema nor the chart's defaults know at that place: a typo the chart would ignore."""
    while "$ref" in schema and schema["$ref"].startswith("#/"):
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    options = [o for o in schema.get("anyOf", []) if "$ref" in o or o.get("type") == "object"]
    if options and isinstance(value, dict):
        return undeclared_keys(value, options[0], root, defaults, path)
    found: list[str] = []
    if isinstance(value, dict) and schema.get("properties"):
        known = dict.fromkeys(defaults) if isinstance(defaults, dict) else {}
        for key, item in value.items():
            if key in schema["properties"]:
                sub_defaults = defaults.get(key) if isinstance(defaults, dict) else None
                found += undeclared_keys(item, schema["properties"][key], root, sub_defaults, f"{path}/{key}")
            elif key not in known:
                found.append(f"{path}/{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        item_defaults = defaults[0] if isinstance(defaults, list) and defaults else None
        for index, item in enumerate(value):
            found += undeclared_keys(item, schema["items"], root, item_defaults, f"{path}[{index}]")
    return found


def helm_problems(document: dict[str, Any], chart_dir: Path = CHART) -> list[str]:
    schema, defaults = chart(chart_dir)
    merged = helm_merge(defaults, document)
    unknown = undeclared_keys(document, schema, schema, defaults)
    return schema_errors(merged, schema) + [f"{key}: neither in the chart's schema nor its values" for key in unknown]


def chart_dirs() -> list[Path]:
    upstream = os.environ.get("DAGSTER_CHART_DIR")
    return [CHART, Path(upstream)] if upstream else [CHART]


def test_chart_copy_is_the_one_its_source_note_names() -> None:
    note = (CHART / "SOURCE.md").read_text()
    digest = hashlib.sha256((CHART / "values.schema.json").read_bytes()).hexdigest()
    assert f"`{digest}`" in note
    assert "helm/dagster/values.schema.json" in note and "Apache" in note
    schema, defaults = chart()
    assert schema_errors(defaults, schema) == []  # the defaults and the schema belong together


@pytest.mark.parametrize("chart_dir", chart_dirs(), ids=str)
def test_values_validate_against_the_charts_schema_as_helm_merges_them(chart_dir: Path) -> None:
    assert helm_problems(override(), chart_dir) == []


def test_values_alone_are_an_override_not_a_complete_values_file() -> None:
    schema, _ = chart()
    errors = schema_errors(override(), schema)
    assert any("'busybox' is a required property" in e for e in errors), errors


def test_schema_check_catches_a_misspelt_key_a_wrong_type_and_a_missing_block() -> None:
    document = override()
    document["dagster-user-deployments"]["deployments"][0]["dagsterApiGrpcArg"] = ["-m", "x"]
    document["runLauncher"]["config"]["k8sRunLauncher"]["loadInclusterConfig"] = "yes"
    document["computeLogManager"]["config"] = {}
    problems = helm_problems(document)
    misspelt = "/dagster-user-deployments/deployments[0]/dagsterApiGrpcArg"
    assert f"{misspelt}: neither in the chart's schema nor its values" in problems
    assert any("'yes'" in p for p in problems), problems
    assert any("'s3ComputeLogManager' is a required property" in p for p in problems), problems


def user_deployment() -> dict[str, Any]:
    (deployment,) = values()["dagster-user-deployments"]["deployments"]
    return deployment


def code_location_image() -> str:
    image = user_deployment()["image"]
    return f"{image['repository']}:{image['tag']}"


def code_location_env() -> dict[str, str]:
    return {item["name"]: item["value"] for item in user_deployment()["env"]}


@functools.cache
def _manifests() -> list[dict[str, Any]]:
    found = [doc for path in sorted(EXTRAS.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found + list(_values()["extraManifests"])


def manifests() -> list[dict[str, Any]]:
    """Every Kubernetes object we ship: the extras files and the chart-rendered extraManifests."""
    return copy.deepcopy(_manifests())


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    return obj["spec"]["template"]["spec"] if obj["kind"] in ("Deployment", "Job") else None


def containers() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for obj in manifests():
        spec = pod_spec(obj)
        for container in (spec or {}).get("containers", []):
            yield obj, container


def model_problems(data: Any, type_name: str, path: str) -> list[str]:
    """Keys the Kubernetes API does not have (the ``kubernetes`` client's models name every field)."""
    if type_name.startswith("list[") and isinstance(data, list):
        return [p for i, item in enumerate(data) for p in model_problems(item, type_name[5:-1], f"{path}[{i}]")]
    if type_name.startswith("dict(") and isinstance(data, dict):
        inner = type_name[5:-1].split(", ", 1)[1]
        return [p for key, item in data.items() for p in model_problems(item, inner, f"{path}/{key}")]
    model = getattr(kubernetes.client, type_name, None)
    if model is None:
        return []  # str, int, bool, object (int-or-string), datetime
    if not isinstance(data, dict):
        return [f"{path}: expected an object ({type_name})"]
    attributes = {json_key: attr for attr, json_key in model.attribute_map.items()}
    problems = [f"{path}/{key}: not a field of {type_name}" for key in data if key not in attributes]
    for key, item in data.items():
        if key in attributes:
            problems += model_problems(item, model.openapi_types[attributes[key]], f"{path}/{key}")
    return problems


def k8s_problems(obj: dict[str, Any]) -> list[str]:
    name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    return model_problems(obj, f"{obj['apiVersion'].rsplit('/', 1)[-1].capitalize()}{obj['kind']}", name)


def test_manifests_are_well_formed_kubernetes_objects() -> None:
    objects = manifests()
    assert {o["kind"] for o in objects} >= {"Namespace", "ServiceAccount", "Secret", "Deployment", "Job", "Ingress"}
    assert [p for obj in objects for p in k8s_problems(obj)] == []
    broken = yaml.safe_load(yaml.safe_dump(values()["extraManifests"][0]))
    broken["spec"]["template"]["spec"]["containers"][0]["envFrm"] = []
    assert k8s_problems(broken) == [
        "Job/extraction-pipeline-db-upgrade/spec/template/spec/containers[0]/envFrm: not a field of V1Container"
    ]


def example_secrets() -> dict[str, set[str]]:
    secrets = [o for o in _manifests() if o["kind"] == "Secret"]
    return {o["metadata"]["name"]: set(o["stringData"]) for o in secrets}


def defined_configmaps() -> dict[str, set[str]]:
    made = {o["metadata"]["name"]: set(o.get("data", {})) for o in manifests() if o["kind"] == "ConfigMap"}
    return made | {name: {"dagster.yaml"} for name in CHART_CONFIGMAPS}


def secret_references() -> Iterator[tuple[str, str | None, bool]]:
    """(Secret name, key or None for all of it, optional) for every reference in the values and manifests."""
    merged = values()
    if not merged["generatePostgresqlPasswordSecret"]:
        yield merged["global"]["postgresqlSecretName"], "postgresql-password", False
    launcher = merged["runLauncher"]["config"]["k8sRunLauncher"]
    for source in [
        *user_deployment()["envSecrets"],
        *launcher["envSecrets"],
        *merged["dagsterWebserver"]["envSecrets"],
    ]:
        yield source["name"], None, bool(source.get("optional"))
    for _, container in containers():
        for item in container.get("env", []):
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                yield ref["name"], ref["key"], bool(ref.get("optional"))
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                yield source["secretRef"]["name"], None, bool(source["secretRef"].get("optional"))
    for obj in manifests():
        for tls in obj["spec"].get("tls", []) if obj["kind"] == "Ingress" else []:
            yield tls["secretName"], None, False


def test_every_secret_and_configmap_a_pod_refers_to_is_defined() -> None:
    secrets = example_secrets()
    missing = [(name, key) for name, key, optional in secret_references() if not optional and name not in secrets]
    assert missing == []
    wrong_keys = [(name, key) for name, key, _ in secret_references() if key and key not in secrets.get(name, {key})]
    assert wrong_keys == []
    configmaps = defined_configmaps()
    for _, container in containers():
        for item in container.get("env", []):
            ref = item.get("valueFrom", {}).get("configMapKeyRef")
            assert ref is None or ref["key"] in configmaps[ref["name"]], ref
    for obj in manifests():
        for volume in (pod_spec(obj) or {}).get("volumes", []):
            assert "configMap" not in volume or volume["configMap"]["name"] in configmaps, volume
    placeholders = [
        v
        for docs in yaml.safe_load_all((EXTRAS / "secrets.example.yaml").read_text())
        if docs
        for v in docs["stringData"].values()
    ]
    assert all(v.startswith("<") and v.endswith(">") for v in placeholders), "no real secret values in the repo"


def package_env_names() -> set[str]:
    sources = (ROOT / "extraction_pipeline").rglob("*.py")
    return {name for path in sources for name in re.findall(r"\"(EXTRACTION_[A-Z0-9_]+)\"", path.read_text())}


def test_the_code_location_gets_every_setting_it_needs_and_only_real_ones() -> None:
    env = code_location_env()
    # dagster-k8s hands run Jobs these Secrets by name (envFrom without `optional`): a missing one stops every run
    assert all("optional" not in source for source in user_deployment()["envSecrets"])
    from_secrets = set().union(*(example_secrets()[s["name"]] for s in user_deployment()["envSecrets"]))
    provided = set(env) | from_secrets
    assert {"EXTRACTION_DATABASE_URL", "EXTRACTION_S3_BUCKET", "AWS_REGION"} <= provided
    assert env["EXTRACTION_DETECTION"] != "sqs" or "EXTRACTION_SQS_QUEUE_URL" in provided
    known = package_env_names()
    assert sorted(n for n in provided if n.startswith("EXTRACTION_") and n not in known) == []
    assert env["EXTRACTION_S3_BUCKET"] != values()["computeLogManager"]["config"]["s3ComputeLogManager"]["bucket"]


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key), value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield "", item
            yield from walk(item)


def test_values_hold_no_credentials() -> None:
    document = override()
    for key, value in walk(document):
        assert not (isinstance(value, str) and value and re.search(r"ACCESS_KEY|PASSWORD|TOKEN", key, re.I)), key
        if isinstance(value, dict) and re.search(r"PASSWORD|SECRET|TOKEN|_KEY", str(value.get("name", ""))):
            assert "value" not in value, value
    assert values()["postgresql"]["postgresqlPassword"] == ""
    assert re.search(r"AKIA[0-9A-Z]{16}", (HELM / "values.yaml").read_text()) is None
    accounts = [o for o in manifests() if o["kind"] == "ServiceAccount"]
    assert [a["metadata"]["name"] for a in accounts] == [values()["global"]["serviceAccountName"]]
    assert accounts[0]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")


def test_everything_runs_in_the_release_namespace_from_one_image() -> None:
    merged = values()
    assert merged["runLauncher"]["config"]["k8sRunLauncher"].get("jobNamespace") is None
    assert merged["dagster-user-deployments"]["deployments"][0].get("deploymentNamespace") is None
    for obj in manifests():
        assert obj["metadata"].get("namespace", NAMESPACE) == NAMESPACE or obj["kind"] == "Namespace", obj["metadata"]
        spec = pod_spec(obj)
        if spec is not None and "oauth2-proxy" not in obj["metadata"]["name"]:
            assert spec["serviceAccountName"] == merged["global"]["serviceAccountName"]
    ours = [c["image"] for _, c in containers() if "oauth2-proxy" not in c["image"]]
    assert ours and set(ours) == {code_location_image()}
    version = importlib.metadata.version("dagster")
    assert merged["dagsterWebserver"]["image"]["tag"] == merged["dagsterDaemon"]["image"]["tag"] == version
    assert f"--version {version}" in (ROOT / "docs" / "kubernetes.md").read_text()


def test_db_upgrade_is_a_pre_install_and_pre_upgrade_hook() -> None:
    (job,) = [o for o in values()["extraManifests"] if o["kind"] == "Job"]
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert sorted(hooks) == ["pre-install", "pre-upgrade"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"][0] == "extraction-pipeline"
    result = CliRunner().invoke(cli_main, [*container["command"][1:], "--help"])
    assert result.exit_code == 0, result.output


def test_webserver_is_reached_only_through_the_authenticating_proxy() -> None:
    merged = values()
    assert merged["ingress"]["enabled"] is False
    objects = {(o["kind"], o["metadata"]["name"]): o for o in manifests()}
    ingresses = [o for (kind, _), o in objects.items() if kind == "Ingress"]
    backends = {
        p["backend"]["service"]["name"] for i in ingresses for r in i["spec"]["rules"] for p in r["http"]["paths"]
    }
    assert backends == {"oauth2-proxy"}
    service, proxy = objects[("Service", "oauth2-proxy")], objects[("Deployment", "oauth2-proxy")]
    assert service["spec"]["selector"].items() <= proxy["spec"]["template"]["metadata"]["labels"].items()
    (container,) = proxy["spec"]["template"]["spec"]["containers"]
    upstream = next(a.split("=", 1)[1] for a in container["args"] if a.startswith("--upstream="))
    port = merged["dagsterWebserver"]["service"]["port"]
    assert upstream == f"http://{WEBSERVER_SERVICE}.{NAMESPACE}.svc.cluster.local:{port}"


def test_instance_settings_outside_the_charts_keys_pass_dagsters_validation(tmp_path: Path) -> None:
    merged = values()
    extra = merged["additionalInstanceConfig"]
    daemon = merged["dagsterDaemon"]
    assert not daemon["runMonitoring"]["enabled"] and not daemon["runRetries"]["enabled"]
    instance = {"storage": {"postgres": {"postgres_url": "postgresql://u:p@h/d"}}, **extra}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance))
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_retries"]["retry_on_asset_or_op_failure"] is False
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump({**instance, "run_retries": {"max_retry": 1}}))
    with pytest.raises(Exception, match="max_retry"):
        dagster_instance_config(str(tmp_path))


def env_names(container: dict[str, Any]) -> set[str]:
    names = {item["name"] for item in container.get("env", [])}
    for source in container.get("envFrom", []):
        name = (source.get("secretRef") or source.get("configMapRef") or {}).get("name", "")
        names |= example_secrets().get(name, set()) | defined_configmaps().get(name, set())
    return names


def test_celery_workers_share_the_code_locations_environment_and_worker_config() -> None:
    (worker,) = [c for obj, c in containers() if obj["metadata"]["name"].endswith("celery-worker")]
    literal = {item["name"]: item["value"] for item in worker["env"] if "value" in item}
    assert code_location_env().items() <= literal.items()
    assert literal["DAGSTER_HOME"] == values()["global"]["dagsterHome"]
    config_file = worker["command"][worker["command"].index("-y") + 1]
    assert config_file == f"{IMAGE_APP_DIR}/deploy/celery.yaml"
    referenced = {
        value["env"]
        for _, value in walk(load_yaml(DEPLOY / "celery.yaml"))
        if isinstance(value, dict) and "env" in value
    }
    assert referenced <= env_names(worker)
    assert {"EXTRACTION_DATABASE_URL", "EXTRACTION_CELERY_BROKER", "DAGSTER_PG_PASSWORD"} <= env_names(worker)


def dockerfile() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def image_contents() -> tuple[dict[str, set[str]], set[str], dict[str, str]]:
    """Image paths COPY'd before each RUN (by its text), all of them, and the ENV (no Docker engine: no build)."""
    workdir, files, before_run, env = "/", set(), {}, {}
    for instruction, args in dockerfile():
        if instruction == "WORKDIR":
            workdir = args
        elif instruction == "ENV":
            env |= dict(pair.split("=", 1) for pair in args.split())
        elif instruction == "COPY":
            *sources, dest = [a for a in args.split() if not a.startswith("--")]
            target = dest if dest.startswith("/") else f"{workdir}/{dest}".replace("/./", "/")
            for source in sources:
                for path in [ROOT / source] if (ROOT / source).is_file() else (ROOT / source).rglob("*"):
                    inside = path.name if (ROOT / source).is_file() else path.relative_to(ROOT / source).as_posix()
                    files.add(f"{target.rstrip('/')}/{inside}")
        elif instruction == "RUN":
            before_run[args] = set(files)
    return before_run, files, env


def installed_distributions(extras: set[str]) -> set[str]:
    names = {"extraction-pipeline", "extraction_pipeline"}
    for text in importlib.metadata.requires("extraction_pipeline") or []:
        requirement = Requirement(text)
        if requirement.marker is None or any(requirement.marker.evaluate({"extra": e}) for e in extras):
            names.add(requirement.name.lower())
    return names


def test_image_contains_every_file_and_command_the_manifests_use() -> None:
    before_run, files, env = image_contents()
    install = next(args for args in before_run if ".[" in args)
    extras = set(re.search(r'"\.\[([^\]]+)\]"', install).group(1).split(","))
    assert extras <= set(importlib.metadata.metadata("extraction_pipeline").get_all("Provides-Extra"))
    needed_for_install = {
        "pyproject.toml",
        "setup.py",
        "README.md",
        "extraction_pipeline/definitions.py",
        "packaging/opencv-python-headless-shim/pyproject.toml",
    }
    assert {f"{IMAGE_APP_DIR}/{p}" for p in needed_for_install} <= before_run[install]
    paths = {v for _, v in walk(manifests()) if isinstance(v, str) and v.startswith(IMAGE_APP_DIR)}
    assert paths and paths <= files, paths - files
    module = user_deployment()["dagsterApiGrpcArgs"][1]
    assert f"{IMAGE_APP_DIR}/{module.replace('.', '/')}.py" in files
    assert env["DAGSTER_HOME"] == values()["global"]["dagsterHome"]
    commands = {c["command"][0] for _, c in containers() if "command" in c} | {"dagster"}  # chart: dagster api grpc
    providers = {ep.name: ep.dist.name.lower() for ep in importlib.metadata.entry_points(group="console_scripts")}
    assert {providers[c] for c in commands} <= installed_distributions(extras), commands
    assert re.search(r'^k8s = \["dagster-k8s==0\.29\.27"\]$', (ROOT / "pyproject.toml").read_text(), re.M)
