"""Production infrastructure (infra/) checked offline: YAML style, Kubernetes schemas, the Helm charts' own value
schemas, the Dockerfiles and the settings names. No cluster, no Helm binary, no network."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from functools import lru_cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from creditlake.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
K8S = INFRA / "k8s"
HELM = INFRA / "helm"
SCHEMAS = HELM / "schemas"
DOCKER = INFRA / "docker"
OPERATIONS = ROOT / "docs" / "operations.md"

# The Kubernetes version the manifests target (bundled by kubernetes-validate; the data centre runs >= 1.32).
K8S_VERSION = "1.32"
NAMESPACE = "creditlake"

# Custom resources: kubernetes-validate has no schema for them and no CRD schema is vendored, so they are linted
# and given the structural checks below, not schema-validated (reason recorded in infra/README.md).
CRD_GROUPS = ("postgresql.cnpg.io", "barmancloud.cnpg.io")

# The chart versions the values files target and the folders their vendored files live in.
AIRFLOW_CHART = SCHEMAS / "airflow-1.21.0"
SUPERSET_CHART = SCHEMAS / "superset-0.22.4"


def require_chart(chart: Path) -> None:
    """Chart files are upstream code, not committed: `infra/helm/pull-chart-schemas.sh` fetches them."""
    if not (chart / "values.schema.json").exists():
        pytest.skip(f"{chart.name} not pulled (run infra/helm/pull-chart-schemas.sh, needs helm and the chart repo)")


# --- helpers ---------------------------------------------------------------------------------------------------


def yaml_files() -> list[Path]:
    return sorted(p for p in INFRA.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def manifest_docs() -> list[tuple[str, int, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for i, doc in enumerate(yaml.safe_load_all(path.read_text(encoding="utf-8"))):
            if doc is not None:
                docs.append((path.name, i, doc))
    return docs


def is_crd(doc: dict) -> bool:
    return doc["apiVersion"].split("/")[0] in CRD_GROUPS


def deep_merge(base: dict, override: dict) -> dict:
    """Helm's merge of user values over chart defaults: maps merge key by key, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@lru_cache(maxsize=None)
def chart_validator(chart_dir: Path) -> jsonschema.protocols.Validator:
    schema = json.loads((chart_dir / "values.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def chart_errors(chart_dir: Path, values: dict) -> list[str]:
    """What `helm install` would reject: the user values merged over the chart's defaults, against its schema."""
    defaults = yaml.safe_load((chart_dir / "values.yaml").read_text(encoding="utf-8"))
    merged = deep_merge(defaults, values)
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
            for e in chart_validator(chart_dir).iter_errors(merged)]


def load_values(name: str) -> dict:
    return yaml.safe_load((HELM / name).read_text(encoding="utf-8"))


SETTINGS_ENV = {f"CREDITLAKE_{name.upper()}" for name in Settings.model_fields}
ENV_NAME = re.compile(r"\bCREDITLAKE_[A-Z0-9_]+\b")


def unknown_env_names(text: str) -> set[str]:
    return set(ENV_NAME.findall(text)) - SETTINGS_ENV


# --- YAML style --------------------------------------------------------------------------------------------------


def test_yamllint_every_infra_yaml_file():
    config = YamlLintConfig(file=str(INFRA / ".yamllint.yaml"))
    checked, problems = 0, []
    for path in yaml_files():
        rel = path.relative_to(INFRA).as_posix()
        if config.is_file_ignored(rel):
            continue
        checked += 1
        for p in linter.run(path.read_text(encoding="utf-8"), config, rel):
            problems.append(f"infra/{rel}:{p.line}:{p.column}: [{p.level}] {p.desc} ({p.rule})")
    assert checked >= 10, f"only {checked} YAML files linted under infra/"
    assert not problems, "\n".join(problems)


def test_yamllint_config_rejects_bad_yaml():
    config = YamlLintConfig(file=str(INFRA / ".yamllint.yaml"))
    bad = "---\nkey: yes   \nother:  [1,2]\n"
    rules = {p.rule for p in linter.run(bad, config, "bad.yaml")}
    assert {"truthy", "trailing-spaces"} <= rules


# --- plain Kubernetes manifests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name,index,doc", manifest_docs(),
                         ids=[f"{n}#{i}-{d['kind']}" for n, i, d in manifest_docs()])
def test_manifest_is_valid_kubernetes(name, index, doc):
    assert doc.get("metadata", {}).get("name"), f"{name}#{index} has no metadata.name"
    if doc["kind"] != "Namespace":
        assert doc["metadata"].get("namespace") == NAMESPACE, f"{name}#{index} is not in namespace {NAMESPACE}"
    if is_crd(doc):
        assert "spec" in doc, f"{name}#{index}: custom resource without spec"
        return  # no schema bundled for custom resources (see CRD_GROUPS)
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_strict_validation_rejects_a_misspelled_field():
    worker = next(d for _, _, d in manifest_docs() if d["kind"] == "Deployment"
                  and d["metadata"]["name"] == "spark-worker")
    kubernetes_validate.validate(worker, K8S_VERSION, strict=True)
    broken = copy.deepcopy(worker)
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["imagePullPolicyy"] = container.pop("imagePullPolicy")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_only_known_custom_resources():
    kinds = sorted({(d["apiVersion"], d["kind"]) for _, _, d in manifest_docs() if is_crd(d)})
    assert kinds == [("barmancloud.cnpg.io/v1", "ObjectStore"), ("postgresql.cnpg.io/v1", "Cluster"),
                     ("postgresql.cnpg.io/v1", "Database"), ("postgresql.cnpg.io/v1", "ScheduledBackup")]


def test_default_deny_network_policy():
    policies = [d for _, _, d in manifest_docs() if d["kind"] == "NetworkPolicy"]
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")
            and not p["spec"].get("egress")]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}


def test_secret_templates_hold_no_secret_values():
    secret_like = re.compile(r"key|pass|secret|pem|url|connection|token", re.IGNORECASE)
    secrets = [(n, d) for n, _, d in manifest_docs() if d["kind"] == "Secret"]
    assert secrets
    for name, secret in secrets:
        assert "data" not in secret, f"{name}: {secret['metadata']['name']} uses base64 data"
        for key, value in (secret.get("stringData") or {}).items():
            if secret_like.search(key) and key not in ("DB_HOST", "DB_PORT", "DB_USER", "DB_NAME", "username"):
                assert value == "", f"{secret['metadata']['name']}.{key} holds a value in a template"


def _referenced_objects(node, found: dict[str, set[str]]) -> None:
    """Names of ConfigMaps, Secrets and PVCs that pods refer to, wherever they appear in a manifest or values."""
    if isinstance(node, dict):
        if "claimName" in node:
            found["PersistentVolumeClaim"].add(node["claimName"])
        if "secretName" in node and isinstance(node["secretName"], str):
            found["Secret"].add(node["secretName"])
        for key, kind in (("secretKeyRef", "Secret"), ("secretRef", "Secret"), ("secret", "Secret"),
                          ("configMapRef", "ConfigMap"), ("configMapKeyRef", "ConfigMap"), ("configMap", "ConfigMap")):
            if isinstance(node.get(key), dict) and "name" in node[key]:
                found[kind].add(node[key]["name"])
        for value in node.values():
            _referenced_objects(value, found)
    elif isinstance(node, list):
        for value in node:
            _referenced_objects(value, found)


def test_every_referenced_configmap_secret_and_claim_exists():
    defined: dict[str, set[str]] = {"ConfigMap": set(), "Secret": set(), "PersistentVolumeClaim": set()}
    for _, _, doc in manifest_docs():
        if doc["kind"] in defined:
            defined[doc["kind"]].add(doc["metadata"]["name"])
    used: dict[str, set[str]] = {k: set() for k in defined}
    for _, _, doc in manifest_docs():
        if doc["kind"] in ("Deployment", "StatefulSet", "CronJob", "Job"):
            _referenced_objects(doc, used)
    airflow = load_values("airflow-values.yaml")
    _referenced_objects(airflow["volumes"], used)
    _referenced_objects(yaml.safe_load(airflow["extraEnv"]), used)
    _referenced_objects(yaml.safe_load(airflow["extraEnvFrom"]), used)
    for key in ("metadataSecretName",):
        used["Secret"].add(airflow["data"][key])
    for key in ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName"):
        used["Secret"].add(airflow[key])
    used["Secret"].add(load_values("superset-values.yaml")["envFromSecret"])
    used["Secret"].discard("creditlake-tls")  # issued by the data centre's certificate authority, not here
    for kind in defined:
        assert used[kind] <= defined[kind], f"{kind} referenced but not defined: {sorted(used[kind] - defined[kind])}"


# --- Helm values against the charts' own schemas -------------------------------------------------------------------


def test_airflow_values_match_the_chart_schema():
    require_chart(AIRFLOW_CHART)
    errors = chart_errors(AIRFLOW_CHART, load_values("airflow-values.yaml"))
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("mutate,expected", [
    (lambda v: v["scheduler"].__setitem__("replcas", v["scheduler"].pop("replicas")), "'replcas' was unexpected"),
    (lambda v: v["apiServer"].__setitem__("resourses", v["apiServer"].pop("resources")), "'resourses' was unexpected"),
    (lambda v: v["workers"].__setitem__("kubernetess", v["workers"].pop("kubernetes")), "'kubernetess' was unexpected"),
    (lambda v: v["dagProcessor"]["dagBundleConfigList"][0].__setitem__("clspath", "x"), "'clspath' was unexpected"),
    (lambda v: v["apiServer"].__setitem__("replicas", "two"), "apiServer.replicas: 'two' is not of type"),
    (lambda v: v.__setitem__("executor", "KubernetesExecuter"), "executor: 'KubernetesExecuter' does not match"),
], ids=["misspelled-scheduler-key", "misspelled-apiServer-key", "misspelled-workers-key",
        "misspelled-bundle-key", "wrong-type", "unknown-executor"])
def test_airflow_schema_rejects_a_broken_values_file(mutate, expected):
    require_chart(AIRFLOW_CHART)
    values = load_values("airflow-values.yaml")
    mutate(values)
    errors = chart_errors(AIRFLOW_CHART, values)
    assert any(expected in e for e in errors), errors


def test_airflow_values_are_airflow_3():
    values = load_values("airflow-values.yaml")
    assert values["airflowVersion"].startswith("3.")
    assert values["executor"] in ("KubernetesExecutor", "CeleryExecutor")
    assert values["dagProcessor"]["enabled"] is True and values["apiServer"]["replicas"] >= 1
    assert "webserver" not in values, "Airflow 3 has an api-server, not a webserver"
    assert values["createUserJob"]["defaultUser"]["enabled"] is False, "no default admin/admin"


def test_superset_values_match_the_chart_schema():
    require_chart(SUPERSET_CHART)
    errors = chart_errors(SUPERSET_CHART, load_values("superset-values.yaml"))
    assert not errors, "\n".join(errors)


def test_superset_config_overrides_are_python_with_the_required_settings(monkeypatch):
    values = load_values("superset-values.yaml")
    for key, value in {"DB_USER": "u", "DB_PASS": "p", "DB_HOST": "h", "DB_PORT": "5432", "DB_NAME": "d",
                       "SUPERSET_SECRET_KEY": "k"}.items():
        monkeypatch.setenv(key, value)
    namespace: dict = {}
    for name, snippet in values["configOverrides"].items():
        exec(compile(snippet, f"configOverrides.{name}", "exec"), namespace)
    assert namespace["BABEL_DEFAULT_LOCALE"] == "zh"
    assert namespace["PUBLIC_ROLE_LIKE"] is None, "anonymous users must get no permissions"
    assert namespace["AUTH_USER_REGISTRATION"] is False
    assert namespace["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg2://u:p@h:5432/d")
    # The same exports and language-pack corrections as the laptop's Superset.
    from creditlake.superset.superset_hooks import mutate_app

    assert namespace["FLASK_APP_MUTATOR"] is mutate_app and namespace["CSV_EXPORT"] == {"encoding": "utf-8"}
    assert namespace["ZH_LANGUAGE_PACK_OVERRIDES"].endswith("dashboards/zh_overrides.json")
    assert values["init"]["createAdmin"] is False and values["init"]["loadExamples"] is False


def test_resource_blocks_in_values_are_valid_kubernetes():
    """Values the charts copy verbatim into pod specs: checked as real containers."""
    blocks = []
    airflow = load_values("airflow-values.yaml")
    for part in ("apiServer", "scheduler", "dagProcessor", "triggerer"):
        blocks.append(airflow[part]["resources"])
    blocks.append(airflow["workers"]["kubernetes"]["resources"])
    superset = load_values("superset-values.yaml")
    blocks += [superset["supersetNode"]["resources"], superset["init"]["resources"]]
    containers = [{"name": f"c{i}", "image": "x", "resources": r} for i, r in enumerate(blocks)]
    # The templated env, envFrom, volumes and mounts every Airflow container (task pods included) receives.
    containers[0].update(env=yaml.safe_load(airflow["extraEnv"]), envFrom=yaml.safe_load(airflow["extraEnvFrom"]),
                         volumeMounts=airflow["volumeMounts"])
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "values-check", "namespace": NAMESPACE},
           "spec": {"containers": containers, "volumes": airflow["volumes"]}}
    kubernetes_validate.validate(pod, K8S_VERSION, strict=True)


def test_vendored_chart_files_match_their_recorded_checksums():
    readme = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    recorded = dict((path, digest) for digest, path in re.findall(r"`([0-9a-f]{64})`\s+`([^`]+)`", readme))
    require_chart(AIRFLOW_CHART)
    vendored = sorted(p for p in SCHEMAS.rglob("*") if p.is_file() and p.name != "README.md")
    for path in vendored:
        rel = path.relative_to(SCHEMAS).as_posix()
        assert rel in recorded, f"{rel} is vendored but its source and checksum are not recorded in the README"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded[rel], f"{rel} differs from upstream"
    chart = yaml.safe_load((AIRFLOW_CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["name"] == "airflow" and chart["version"] == "1.21.0"


# --- images -----------------------------------------------------------------------------------------------------


def _copy_sources(dockerfile: Path) -> list[str]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    sources = []
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] in ("COPY", "ADD") and not any(p.startswith("--from") for p in parts):
            args = [p for p in parts[1:] if not p.startswith("--")]
            sources += args[:-1]
    return sources


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.superset"])
def test_dockerfile_copies_files_that_exist(name):
    dockerfile = DOCKER / name
    sources = _copy_sources(dockerfile)
    assert "pyproject.toml" in sources and "uv.lock" in sources
    for source in sources:
        assert (ROOT / source).exists(), f"{name} copies {source}, which does not exist in the repository"
    ignored = {line.strip().rstrip("/") for line in (DOCKER / f"{name}.dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for source in sources:
        assert source.rstrip("/") not in ignored, f"{name} copies {source}, which its .dockerignore excludes"
    text = dockerfile.read_text(encoding="utf-8")
    assert "uv sync --frozen" in text, "the image must install exactly what uv.lock pins"
    groups = set(re.findall(r"--group (\w+)", text))
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"])
    assert groups and groups <= declared, f"{name} syncs groups {groups - declared} that pyproject.toml lacks"


def test_pipeline_image_resolves_the_jars_at_build_time():
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert "openjdk-17" in text and "creditlake jars" in text and "CREDITLAKE_MAVEN_REPOSITORY" in text


# --- settings names --------------------------------------------------------------------------------------------


def test_every_creditlake_env_var_in_infra_is_a_setting():
    texts = [p for p in INFRA.rglob("*") if p.is_file() and not p.is_relative_to(SCHEMAS)]
    texts.append(OPERATIONS)
    unknown = {}
    for path in texts:
        bad = unknown_env_names(path.read_text(encoding="utf-8", errors="replace"))
        if bad:
            unknown[path.relative_to(ROOT).as_posix()] = sorted(bad)
    assert not unknown, f"CREDITLAKE_* names that are not Settings fields: {unknown}"


def test_env_name_check_catches_an_unknown_name():
    assert unknown_env_names("CREDITLAKE_HOME=/x CREDITLAKE_LAKE_URI=s3a://x") == {"CREDITLAKE_LAKE_URI"}


def test_creditlake_env_configmap_is_valid_settings(monkeypatch):
    env = next(d for _, _, d in manifest_docs() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "creditlake-env")
    for key in list(env["data"]):
        assert isinstance(env["data"][key], str)
    for key, value in env["data"].items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert str(settings.home) == "/var/lib/creditlake"
    assert settings.spark_master.startswith("spark://")
    assert not settings.key_file.is_relative_to(settings.lake), "the pseudonym key must live outside the lake"
