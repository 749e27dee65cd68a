"""deploy/kubernetes: every manifest is valid against the Kubernetes schemas (offline, strict:
unknown fields fail), every GATEWAY_* variable is a real setting, and the pod is set up as
the gateway needs it (probes, non-root, read-only root, writable /tmp, the policy folder)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.policy.loader import load_policy
from gateway.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "kubernetes"
SCHEMA = kubernetes_validate.latest_version()


def _kustomization() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    return doc


def _resources() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in _kustomization()["resources"]:
        docs.extend(d for d in yaml.safe_load_all((BASE / name).read_text()) if d)
    return docs


def _one(kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [
        d for d in _resources() if d["kind"] == kind and name in (None, d["metadata"]["name"])
    ]
    return found


def _container(deployment: str = "distillguard") -> dict[str, Any]:
    (container,) = _one("Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return container


def _validate(doc: dict[str, Any]) -> None:
    try:
        kubernetes_validate.validate(doc, SCHEMA, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {exc.message}", pytrace=False)


def test_the_base_has_every_kind() -> None:
    kinds = {d["kind"] for d in _resources()}
    assert kinds == {
        "Deployment",
        "Service",
        "Secret",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    }


@pytest.mark.parametrize("name", _kustomization()["resources"])
def test_manifest_is_valid(name: str) -> None:
    for doc in yaml.safe_load_all((BASE / name).read_text()):
        if doc:
            _validate(doc)


def test_schema_validation_rejects_an_unknown_field() -> None:
    doc = _one("Deployment", "distillguard")
    doc["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, SCHEMA, strict=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_kustomize_build_is_valid() -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", str(BASE)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert {d["kind"] for d in docs} >= {"ConfigMap", "Deployment", "Service"}
    for doc in docs:
        _validate(doc)


@pytest.mark.parametrize("deployment", ["distillguard", "distillguard-detect"])
def test_every_gateway_variable_is_a_setting(deployment: str) -> None:
    env = _container(deployment)["env"]
    names = [e["name"] for e in env if e["name"].startswith(ENV_PREFIX)]
    settings = {ENV_PREFIX + field.upper() for field in Settings.model_fields}
    assert names and set(names) - settings == set()


def test_detect_workers_share_the_gateways_stream_and_policy() -> None:
    def env(deployment: str) -> dict[str, Any]:
        return {
            e["name"]: e.get("value", e.get("valueFrom")) for e in _container(deployment)["env"]
        }

    gateway, detect = env("distillguard"), env("distillguard-detect")
    for name in ("GATEWAY_STORE", "GATEWAY_POLICIES", "GATEWAY_LINK_SECRET"):
        assert detect[name] == gateway[name], name
    shards = str(Settings.model_fields["sighting_shards"].default)
    assert gateway.get("GATEWAY_SIGHTING_SHARDS", shards) == detect["GATEWAY_SIGHTING_SHARDS"]
    container = _container("distillguard-detect")
    assert container["args"] == ["detect"]
    (port,) = container["ports"]
    assert detect["GATEWAY_DETECT_LISTEN"].endswith(f":{port['containerPort']}")
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    pod = _one("Deployment", "distillguard-detect")["spec"]["template"]
    assert int(pod["metadata"]["annotations"]["prometheus.io/port"]) == port["containerPort"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


def test_secret_holds_every_key_the_pod_reads() -> None:
    secret = _one("Secret")
    held = set(secret["stringData"])
    refs = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for e in _container()["env"]
        if "valueFrom" in e and not e["valueFrom"]["secretKeyRef"].get("optional")
    }
    volumes = _one("Deployment", "distillguard")["spec"]["template"]["spec"]["volumes"]
    (secret_volume,) = [v for v in volumes if "secret" in v]
    refs |= {item["key"] for item in secret_volume["secret"]["items"]}
    assert refs - held == set()


def test_pod_runs_as_the_gateway_needs() -> None:
    pod = _one("Deployment", "distillguard")["spec"]["template"]["spec"]
    container = _container()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    env = {e["name"]: e.get("value") for e in container["env"]}
    policies = env["GATEWAY_POLICIES"]
    assert volumes[mounts[policies]]["configMap"]["name"] == "distillguard-policies"
    assert env["GATEWAY_TRUSTED_PROXIES"] in ("", None)  # never 0.0.0.0/0 by default
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    annotations = _one("Deployment", "distillguard")["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == ports["admin"]
    assert env["GATEWAY_ADMIN_LISTEN"].endswith(f":{ports['admin']}")
    assert env["GATEWAY_LISTEN"].endswith(f":{ports['http']}")


def test_the_policy_configmap_files_load() -> None:
    (generator,) = _kustomization()["configMapGenerator"]
    assert _kustomization()["generatorOptions"]["disableNameSuffixHash"] is True  # hot reload
    for name in generator["files"]:
        assert load_policy(BASE / name).policy.version


def test_optional_service_monitor_selects_the_service() -> None:
    monitor = yaml.safe_load((BASE / "optional" / "servicemonitor.yaml").read_text())
    labels = _kustomization()["labels"][0]["pairs"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
    ports = {p["name"] for p in _one("Service")["spec"]["ports"]}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
