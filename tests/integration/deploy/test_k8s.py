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
        # args, not command: command would replace the image's ENTRYPOINT, tini, which reaps Chromium's orphans.
        assert "command" not in container
        assert container["args"] == ["python", "-m", f"services.{name.replace('-', '_')}"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert {"name": "http", "containerPort": 8080} in container["ports"]
        assert set(container["resources"]["requests"]) == set(container["resources"]["limits"]) == {"cpu", "memory"}
        refs = {(k, v["name"]) for ref in container["envFrom"] for k, v in ref.items()}
        assert refs == {("configMapRef", config)}  # no shared Secret in anyone's environment
    assert deployments["browser-gateway"]["spec"]["strategy"]["type"] == "Recreate"


def test_provision_job_and_shared_settings(resources: list[dict]) -> None:
    job = by_kind(resources, "Job")["xbot-provision"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["xbot", "provision"]
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
    # The routes (with the route password) are in the Secret nats-routes that `xbot credentials k8s` writes.
    from ops.nats_auth import routes_config
    routes = routes_config("pw")
    for i in range(3):
        assert f"nats-route://route:pw@nats-{i}.nats-headless:6222" in routes
    assert "jetstream" in conf and 'include "auth.conf"' in conf
    assert "$XBOT_NATS_PASSWORD_POSTER" in conf_map["data"]["auth.conf"]
    # The monitoring port: on the pod's loopback only, in no Service, no container port.
    assert "http: 127.0.0.1:8222" in conf
    for service in by_kind(resources, "Service").values():
        assert all(port["port"] != 8222 for port in service["spec"]["ports"])
    (container,) = nats["spec"]["template"]["spec"]["containers"]
    assert all(port["containerPort"] != 8222 for port in container["ports"])
    # Routes authorised: the route credentials come from their own Secret, mounted read-only.
    volumes = {v["name"]: v for v in nats["spec"]["template"]["spec"]["volumes"]}
    assert volumes["routes"]["secret"]["secretName"] == "nats-routes"
    assert container["envFrom"] == [{"secretRef": {"name": "nats-users"}}]


WORKLOADS = {"Deployment", "StatefulSet", "Job"}


def pod_specs(resources: list[dict]) -> dict[str, dict]:
    return {r["metadata"]["name"]: r["spec"]["template"]["spec"] for r in resources if r["kind"] in WORKLOADS}


def secrets_used(pod: dict) -> set[str]:
    names = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    for c in pod["containers"]:
        names |= {ref["secretRef"]["name"] for ref in c.get("envFrom", []) if "secretRef" in ref}
        names |= {e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", [])
                  if "secretKeyRef" in e.get("valueFrom", {})}
    return names


def test_each_workload_mounts_its_own_secret_only(resources: list[dict]) -> None:
    used = {name: secrets_used(pod) for name, pod in pod_specs(resources).items()}
    assert used == {
        "planner": {"xbot-planner"}, "poster": {"xbot-poster"}, "harvester": {"xbot-harvester"},
        "scraper": {"xbot-scraper"}, "learner": {"xbot-learner"}, "browser-gateway": {"xbot-browser-gateway"},
        "notifier": {"xbot-notifier"}, "console": {"xbot-console"}, "alertmanager": set(),
        "xbot-provision": {"xbot-provision"}, "xbot-db-roles": {"xbot-db-roles"},
        "nats": {"nats-users", "nats-routes"},
    }
    for name, pod in pod_specs(resources).items():
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["defaultMode"] == 0o400, (name, volume)
        for c in pod["containers"]:
            for mount in c.get("volumeMounts", []):
                if any(v["name"] == mount["name"] and "secret" in v for v in pod["volumes"]):
                    assert mount["readOnly"] is True
    deployments = by_kind(resources, "Deployment")
    for name, deployment in deployments.items():
        env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["XBOT_NATS_USER"] == name.replace("-", "_") and env["XBOT_SECRETS_DIR"] == "/run/secrets/xbot"


def test_every_pod_is_confined(resources: list[dict]) -> None:
    for name, pod in pod_specs(resources).items():
        assert pod["hostUsers"] is False, name
        assert pod["automountServiceAccountToken"] is False, name
        ctx = pod["securityContext"]
        assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] != 0, name
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for c in pod["containers"]:
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}, name


def test_network_policies_deny_by_default(resources: list[dict]) -> None:
    policies = by_kind(resources, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    # The internet (443) only for the gateway (X), the planner (the LLM) and the harvester (the niche's news feeds).
    internet = policies["internet"]["spec"]
    (expr,) = internet["podSelector"]["matchExpressions"]
    assert sorted(expr["values"]) == ["browser-gateway", "harvester", "planner"]
    # Only xbot's workloads reach NATS's client port; nothing reaches 8222.
    for policy in policies.values():
        for rule in policy["spec"].get("ingress", []):
            assert all(p["port"] != 8222 for p in rule.get("ports", []))


def test_the_generated_secrets_validate_and_hold_only_their_workloads_credentials(tmp_path) -> None:
    from ops.credentials import k8s_secrets, load

    secrets = {d["metadata"]["name"]: d for d in yaml.safe_load_all(k8s_secrets(load(tmp_path))) if d}
    for secret in secrets.values():
        kubernetes_validate.validate(secret, K8S_VERSION, strict=True)
    assert set(secrets["xbot-poster"]["stringData"]) == {"xbot_nats_password", "xbot_database_password",
                                                         "xbot_database_url"}
    assert set(secrets["xbot-browser-gateway"]["stringData"]) == {"xbot_nats_password"}
    assert set(secrets["xbot-provision"]["stringData"]) == {"xbot_nats_password"}
    assert secrets["xbot-poster"]["stringData"]["xbot_database_url"].startswith("postgresql://xbot_poster@")
    # The superuser's password is in the db-roles Job's Secret alone.
    admin = secrets["xbot-db-roles"]["stringData"]["xbot_database_password"]
    assert [n for n, s in secrets.items() if admin in s["stringData"].values()] == ["xbot-db-roles"]
    # Every workload's Secret of the manifests exists in what `xbot credentials k8s` writes.
    done = subprocess.run([tool("kubectl"), "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True,
                          timeout=60)
    rendered = [r for r in yaml.safe_load_all(done.stdout) if r]
    assert set().union(*secrets_used_all(rendered)) <= set(secrets)


def secrets_used_all(resources: list[dict]) -> list[set[str]]:
    return [secrets_used(pod) for pod in pod_specs(resources).values()]


def test_alertmanager_routes_to_the_notifier_with_the_checked_config(resources: list[dict]) -> None:
    am = by_kind(resources, "StatefulSet")["alertmanager"]
    (container,) = am["spec"]["template"]["spec"]["containers"]
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in container["args"]
    (config,) = [c for n, c in by_kind(resources, "ConfigMap").items() if n.startswith("alertmanager-config")]
    # The file amtool checks (tests/integration/deploy/test_alertmanager.py) is the one deployed.
    assert config["data"]["alertmanager.yml"] == (DEPLOY / "alertmanager" / "alertmanager.yml").read_text()
    assert "http://notifier:8080/alertmanager" in config["data"]["alertmanager.yml"]
    service = by_kind(resources, "Service")["notifier"]
    assert service["spec"]["ports"][0]["port"] == 8080
