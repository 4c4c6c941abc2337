"""docker-compose.yml renders with the real Compose v2 (`config` needs no engine), with secrets only from .env."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.integration.deploy.tools import DEPLOY, ROOT, tool

XBOT_SERVICES = {"planner", "poster", "harvester", "scraper", "learner", "browser-gateway"}


def compose(*args: str, env_file: str) -> subprocess.CompletedProcess[str]:
    # --env-file replaces the developer's own .env, so the test sees only what it passes.
    return subprocess.run(
        [tool("docker-compose"), "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"),
         "--env-file", env_file, *args],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def config() -> dict:
    done = compose("--profile", "sandbox", "config", "--format", "json", env_file=str(DEPLOY / "env.example"))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_part_of_the_stack_is_there(config: dict) -> None:
    assert set(config["services"]) == XBOT_SERVICES | {
        "nats", "postgres", "provision", "sandbox", "otel-collector", "jaeger", "prometheus", "grafana"}


def test_services_run_their_module_from_one_image_after_provisioning(config: dict) -> None:
    services = config["services"]
    images = {services[s]["image"] for s in XBOT_SERVICES | {"provision", "sandbox"}}
    assert len(images) == 1
    assert services["provision"]["command"] == ["xbot", "provision"]
    for name in XBOT_SERVICES:
        svc = services[name]
        assert svc["command"] == ["python", "-m", f"services.{name.replace('-', '_')}"]
        assert svc["depends_on"]["provision"]["condition"] == "service_completed_successfully"
        env = svc["environment"]
        assert env["XBOT_HTTP_PORT"] == "8080" and env["XBOT_HTTP_HOST"] == "0.0.0.0"
        assert env["XBOT_NATS_URL"] == "nats://nats:4222"
        assert env["XBOT_OTLP_ENDPOINT"] == "http://otel-collector:4318/v1/traces"
    assert services["sandbox"]["profiles"] == ["sandbox"]


def test_secrets_come_from_the_env_file(config: dict, tmp_path) -> None:
    env_file = tmp_path / "secrets.env"
    env_file.write_text((DEPLOY / "env.example").read_text().replace("change-me", "canary-7f3a"))
    done = compose("config", "--format", "json", env_file=str(env_file))
    assert done.returncode == 0, done.stderr
    services = json.loads(done.stdout)["services"]
    assert services["nats"]["environment"]["XBOT_NATS_PASSWORD"] == "canary-7f3a"
    assert services["poster"]["environment"]["XBOT_NATS_PASSWORD"] == "canary-7f3a"
    assert ":canary-7f3a@postgres:5432/" in services["poster"]["environment"]["XBOT_DATABASE_URL"]
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == "canary-7f3a"
    assert "canary" not in (ROOT / "docker-compose.yml").read_text()


def test_a_missing_secret_stops_compose_with_its_name(tmp_path) -> None:
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    done = compose("config", "-q", env_file=str(env_file))
    assert done.returncode != 0
    assert "XBOT_NATS_PASSWORD" in done.stderr and "POSTGRES_PASSWORD" in done.stderr


def test_nats_runs_with_the_mounted_config(config: dict) -> None:
    nats = config["services"]["nats"]
    assert nats["command"] == ["-c", "/etc/nats/nats.conf"]
    mounts = {v["target"]: v["source"] for v in nats["volumes"]}
    assert mounts["/etc/nats/nats.conf"] == str(DEPLOY / "nats" / "nats.conf")
