"""deploy/k8s renders with kustomize and every resource validates against the Kubernetes OpenAPI schema
(kubernetes-validate bundles the schemas, strict mode: unknown fields fail), offline."""

from __future__ import annotations

import copy
import subprocess

import kubernetes_validate
import pytest
import yaml

from tests.integration.deploy.tools import DEPLOY, ROOT, tool

K8S_VERSION = "1.30.0"
SERVICE_MODULES = sorted(p.parent.name for p in (ROOT / "services").glob("*/__main__.py"))


@pytest.fixture(scope="module")
def resources() -> list[dict]:
    done = subprocess.run([tool("kubectl"), "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return [r for r in yaml.safe_load_all(done.stdout) if r]


def by_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def test_every_resource_matches_its_schema(resources: list[dict]) -> None:
    for resource in resources:
        # SchemaNotFoundError (an unknown kind or apiVersion) fails as well.
        kubernetes_validate.validate(resource, K8S_VERSION, strict=True)


def test_the_validator_rejects_a_wrong_manifest(resources: list[dict]) -> None:
    broken = copy.deepcopy(by_kind(resources, "Deployment")["poster"])
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = {"no": "port"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
    broken = copy.deepcopy(by_kind(resources, "Deployment")["poster"])
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_each_service_has_a_probed_bounded_deployment(resources: list[dict]) -> None:
    deployments = by_kind(resources, "Deployment")
    config = next(n for n in by_kind(resources, "ConfigMap") if n.startswith("xbot-config"))
    assert sorted(n.replace("-", "_") for n in deployments) == SERVICE_MODULES
    for name, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", f"services.{name.replace('-', '_')}"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert {"name": "http", "containerPort": 8080} in container["ports"]
        assert set(container["resources"]["requests"]) == set(container["resources"]["limits"]) == {"cpu", "memory"}
        refs = {(k, v["name"]) for ref in container["envFrom"] for k, v in ref.items()}
        assert refs == {("configMapRef", config), ("secretRef", "xbot-secrets")}
    assert deployments["browser-gateway"]["spec"]["strategy"]["type"] == "Recreate"


def test_provision_job_and_shared_settings(resources: list[dict]) -> None:
    job = by_kind(resources, "Job")["xbot-provision"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["xbot", "provision"]
    (config,) = [c for n, c in by_kind(resources, "ConfigMap").items() if n.startswith("xbot-config")]
    data = config["data"]
    assert data["XBOT_STREAM_REPLICAS"] == "3"
    assert data["XBOT_HTTP_PORT"] == "8080" and data["XBOT_LIVE"] == "false"
    assert not any("PASSWORD" in key or "API_KEY" in key for key in data)


def test_nats_is_a_three_node_jetstream_cluster(resources: list[dict]) -> None:
    nats = by_kind(resources, "StatefulSet")["nats"]
    assert nats["spec"]["replicas"] == 3
    assert by_kind(resources, "Service")["nats-headless"]["spec"]["clusterIP"] == "None"
    (conf_map,) = [c for n, c in by_kind(resources, "ConfigMap").items() if n.startswith("nats-config")]
    conf = conf_map["data"]["nats.conf"]
    for i in range(3):
        assert f"nats-route://nats-{i}.nats-headless:6222" in conf
    assert "jetstream" in conf and "$XBOT_NATS_PASSWORD" in conf
