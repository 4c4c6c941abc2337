"""docker-compose.yml renders with the real Compose v2 (`config` needs no engine), with secrets only from .env."""

from __future__ import annotations

import json
import os
import subprocess
from urllib.parse import urlsplit

import pytest

from libs.core.settings import load_settings
from libs.core.live_guard import LiveGuardRefusal, check_target
from services.poster.settings import PosterSettings
from tests.integration.deploy.tools import DEPLOY, ROOT, tool

XBOT_SERVICES = {"planner", "poster", "harvester", "scraper", "learner", "browser-gateway", "notifier", "console"}


def compose(*args: str, env_file: str) -> subprocess.CompletedProcess[str]:
    # --env-file replaces the developer's own .env, so the test sees only what it passes.
    return subprocess.run(
        [tool("docker-compose"), "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"),
         "--env-file", env_file, *args],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )


def rendered(*args: str, env_file: str = str(DEPLOY / "env.example")) -> dict:
    done = compose(*args, "config", "--format", "json", env_file=env_file)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def config() -> dict:
    return rendered("--profile", "sandbox")


@pytest.fixture(scope="module")
def config_without_sandbox() -> dict:
    return rendered()


def test_every_part_of_the_stack_is_there(config: dict, config_without_sandbox: dict) -> None:
    always = XBOT_SERVICES | {"nats", "postgres", "provision", "db-roles", "otel-collector", "jaeger", "prometheus",
                              "alertmanager", "grafana"}
    assert set(config["services"]) == always | {"sandbox", "login"}
    assert set(config_without_sandbox["services"]) == always


def test_services_run_their_module_from_one_image_after_provisioning(config: dict) -> None:
    services = config["services"]
    images = {services[s]["image"] for s in XBOT_SERVICES | {"provision", "db-roles", "sandbox", "login"}}
    assert len(images) == 1
    assert services["provision"]["command"] == ["xbot", "provision"]
    for name in XBOT_SERVICES:
        svc = services[name]
        assert svc["command"] == ["python", "-m", f"services.{name.replace('-', '_')}"]
        assert svc["depends_on"]["provision"]["condition"] == "service_completed_successfully"
        assert svc["depends_on"]["db-roles"]["condition"] == "service_completed_successfully"
        env = svc["environment"]
        assert env["XBOT_HTTP_PORT"] == "8080" and env["XBOT_HTTP_HOST"] == "0.0.0.0"
        assert env["XBOT_NATS_URL"] == "nats://nats:4222"
        assert env["XBOT_OTLP_ENDPOINT"] == "http://otel-collector:4318/v1/traces"
    assert services["sandbox"]["profiles"] == ["sandbox"]


def test_secrets_come_from_the_env_file(tmp_path) -> None:
    env_file = tmp_path / "secrets.env"
    env_file.write_text((DEPLOY / "env.example").read_text().replace("change-me", "canary-7f3a"))
    done = compose("config", "--format", "json", env_file=str(env_file))
    assert done.returncode == 0, done.stderr
    rendered_config = json.loads(done.stdout)
    services = rendered_config["services"]
    # The NATS server checks every component's password; no other container has any in its environment.
    assert services["nats"]["environment"]["XBOT_NATS_PASSWORD_POSTER"] == "canary-7f3a"
    for name, svc in services.items():
        if name not in ("nats", "grafana", "login", "sandbox"):
            assert "canary-7f3a" not in json.dumps(svc.get("environment", {})), name
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == "canary-7f3a"
    assert "canary" not in (ROOT / "docker-compose.yml").read_text()
    # Secrets are files from .env's variables.
    assert rendered_config["secrets"]["nats_poster"]["environment"] == "XBOT_NATS_PASSWORD_POSTER"


def secret_sources(service: dict) -> dict[str, str]:
    """target file name → the compose secret it comes from."""
    return {s["target"]: s["source"] for s in service.get("secrets", [])}


def test_each_container_gets_its_own_secrets_only(config: dict) -> None:
    services, secrets = config["services"], config["secrets"]
    for name in XBOT_SERVICES:
        svc = services[name]
        module = name.replace("-", "_")
        env = svc["environment"]
        assert env["XBOT_SECRETS_DIR"] == "/run/secrets" and env["XBOT_NATS_USER"] == module
        assert "XBOT_NATS_PASSWORD" not in env and "XBOT_DATABASE_PASSWORD" not in env
        assert "XBOT_LLM_API_KEY" not in env
        mine = secret_sources(svc)
        assert secrets[mine["xbot_nats_password"]]["environment"] == f"XBOT_NATS_PASSWORD_{module.upper()}"
        if module != "browser_gateway":
            assert secrets[mine["xbot_database_password"]]["environment"] == f"XBOT_DB_PASSWORD_{module.upper()}"
            assert env["XBOT_DATABASE_URL"] == f"postgresql://xbot_{module}@postgres:5432/xbot"
        assert ("xbot_llm_api_key" in mine) == (module == "planner")
    # The operator's NATS user provisions; the superuser's password goes to db-roles (and the server) alone.
    assert secret_sources(services["provision"]) == {"xbot_nats_password": "nats_operator"}
    holders = {n for n, svc in services.items() if "pg_admin_password" in secret_sources(svc).values()
               or "pg_admin_password" in [s if isinstance(s, str) else s.get("source") for s in svc.get("secrets", [])]}
    assert holders == {"db-roles", "postgres"}
    assert "XBOT_DB_PASSWORD_POSTER" not in json.dumps(services["poster"])


def test_the_env_example_names_every_generated_credential() -> None:
    from ops.credentials import env_lines, load

    example = {line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines()
               if "=" in line and not line.startswith("#")}
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        generated = {line.split("=", 1)[0] for line in env_lines(load(Path(tmp))).splitlines()}
    assert generated <= example


def test_a_missing_secret_stops_compose_with_its_name(tmp_path) -> None:
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    done = compose("config", "-q", env_file=str(env_file))
    assert done.returncode != 0
    assert "XBOT_NATS_PASSWORD_POSTER" in done.stderr or "XBOT_NATS_PASSWORD_BROWSER_GATEWAY" in done.stderr
    env_file.write_text("\n".join(line for line in (DEPLOY / "env.example").read_text().splitlines()
                                  if not line.startswith("XBOT_DB_PASSWORD_POSTER=")))
    done = compose("config", "-q", env_file=str(env_file))
    assert done.returncode != 0 and "XBOT_DB_PASSWORD_POSTER" in done.stderr


def test_alertmanager_routes_to_the_notifier(config: dict) -> None:
    am = config["services"]["alertmanager"]
    mounts = {v["target"]: v["source"] for v in am["volumes"]}
    assert mounts["/etc/alertmanager/alertmanager.yml"] == str(DEPLOY / "alertmanager" / "alertmanager.yml")
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in am["command"]
    notifier = config["services"]["notifier"]["environment"]
    assert notifier["XBOT_NOTIFY_WATCH"] == "false" and "XBOT_NOTIFY_URLS" not in notifier
    # The owner's channels: a file for the notifier alone.
    assert secret_sources(config["services"]["notifier"])["xbot_notify_urls"] == "notify_urls"
    assert [n for n, svc in config["services"].items() if "notify_urls" in secret_sources(svc).values()] == \
        ["notifier"]
    prometheus = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    assert '"alertmanager:9093"' in prometheus and '"notifier:8080"' in prometheus


def test_nats_runs_with_the_mounted_config(config: dict) -> None:
    nats = config["services"]["nats"]
    assert nats["command"] == ["-c", "/etc/nats/nats.conf"]
    mounts = {v["target"]: v["source"] for v in nats["volumes"]}
    assert mounts["/etc/nats/nats.conf"] == str(DEPLOY / "nats" / "nats.conf")
    assert mounts["/etc/nats/auth.conf"] == str(DEPLOY / "nats" / "auth.conf")
    assert "ports" not in nats  # neither the client nor the monitoring port is published on the host


def guard(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The poster's live guard on a rendered environment, read through the poster's own settings."""
    for name in list(os.environ):
        if name.startswith("XBOT_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        if name != "XBOT_SECRETS_DIR":  # the container's /run/secrets: the guard reads no secret
            monkeypatch.setenv(name, value)
    settings = load_settings(PosterSettings)
    return check_target(settings.x_base_url, live=settings.live, sandbox_hosts=settings.x_sandbox_hosts)


def test_the_poster_passes_the_live_guard_against_the_compose_sandbox(config: dict, config_without_sandbox: dict,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    env = config["services"]["poster"]["environment"]
    assert env["XBOT_LIVE"] == "false"
    assert urlsplit(env["XBOT_X_BASE_URL"]).hostname == "sandbox" and "sandbox" in config["services"]
    assert guard(env, monkeypatch) == "sandbox"
    # The same default environment without the profile (the operator points it elsewhere in .env).
    assert guard(config_without_sandbox["services"]["poster"]["environment"], monkeypatch) == "sandbox"


def test_the_poster_still_refuses_x_in_compose_until_live(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "x.env"
    base = (DEPLOY / "env.example").read_text()
    env_file.write_text(base + "XBOT_X_BASE_URL=https://x.com\n")
    env = rendered(env_file=str(env_file))["services"]["poster"]["environment"]
    assert env["XBOT_X_SANDBOX_HOSTS"] == "sandbox"  # still listed: x.com is refused anyway
    with pytest.raises(LiveGuardRefusal) as err:
        guard(env, monkeypatch)
    assert "XBOT_LIVE" in str(err.value) and "XBOT_X_BASE_URL=https://x.com" in str(err.value)
    env_file.write_text(base + "XBOT_X_BASE_URL=https://x.com\nXBOT_LIVE=true\n")
    assert guard(rendered(env_file=str(env_file))["services"]["poster"]["environment"], monkeypatch) == "live"


def session_mount(service: dict) -> tuple[str, str]:
    """(volume, path in the container) of the session file a service reads or writes."""
    session_file = service["environment"]["XBOT_SESSION_FILE"]
    for volume in service.get("volumes", []):
        if volume["type"] == "volume" and session_file.startswith(volume["target"].rstrip("/") + "/"):
            return volume["source"], session_file
    raise AssertionError(f"{session_file} is not on a named volume: {service.get('volumes')}")


def test_login_writes_the_gateways_session_before_the_gateway_starts(config: dict) -> None:
    services = config["services"]
    login, gateway, sandbox = services["login"], services["browser-gateway"], services["sandbox"]
    assert login["profiles"] == ["sandbox"]
    assert login["command"] == ["python", "-m", "services.browser_gateway", "login"]
    assert login["restart"] == "no"
    assert login["image"] == gateway["image"]
    # The gateway waits for login to finish; login waits for the sandbox to serve its login page.
    assert gateway["depends_on"]["login"]["condition"] == "service_completed_successfully"
    assert gateway["depends_on"]["provision"]["condition"] == "service_completed_successfully"
    assert login["depends_on"]["sandbox"]["condition"] == "service_healthy"
    assert "/i/flow/login" in " ".join(sandbox["healthcheck"]["test"])
    # The same volume, and the same file in it.
    assert session_mount(login) == session_mount(gateway) == ("gateway-session", "/app/var/x_session.json")
    # The session is for the gateway's target, signed in as the sandbox's account.
    login_env, sandbox_env = login["environment"], sandbox["environment"]
    assert login_env["XBOT_X_BASE_URL"] == gateway["environment"]["XBOT_X_BASE_URL"] == "http://sandbox:8400"
    assert login_env["XBOT_X_USERNAME"] == sandbox_env["XBOT_SANDBOX_HANDLE"]
    assert login_env["XBOT_X_PASSWORD"] == sandbox_env["XBOT_SANDBOX_PASSWORD"]
    # The session secret is the gateway's alone, a file; empty here (a set XBOT_X_SESSION would win over the file).
    assert "XBOT_X_SESSION" not in gateway["environment"]
    assert secret_sources(gateway)["xbot_x_session"] == "x_session"
    assert config["secrets"]["x_session"]["environment"] == "XBOT_X_SESSION"
    assert [n for n, svc in config["services"].items() if "x_session" in secret_sources(svc).values()] == \
        ["browser-gateway"]


def test_login_never_takes_the_real_x_credentials_from_env(tmp_path) -> None:
    env_file = tmp_path / "x.env"
    env_file.write_text((DEPLOY / "env.example").read_text() + "XBOT_X_BASE_URL=https://x.com\n"
                        "XBOT_X_USERNAME=real_handle\nXBOT_X_PASSWORD=real-password-7f3a\n")
    login = rendered("--profile", "sandbox", env_file=str(env_file))["services"]["login"]
    assert login["environment"]["XBOT_X_BASE_URL"] == "http://sandbox:8400"
    rendered_login = json.dumps(login)
    assert "real_handle" not in rendered_login and "real-password-7f3a" not in rendered_login


def test_without_the_sandbox_profile_the_gateway_runs_on_the_operators_session(
        config_without_sandbox: dict) -> None:
    gateway = config_without_sandbox["services"]["browser-gateway"]
    # login is not in the project; the dependency on it is optional, so `up` starts the gateway anyway.
    assert gateway["depends_on"]["login"]["required"] is False
    assert gateway["depends_on"]["provision"]["required"] is True
    assert session_mount(gateway) == ("gateway-session", "/app/var/x_session.json")
    assert secret_sources(gateway)["xbot_x_session"] == "x_session"
