"""The optional TLS of deploy/k8s (components/nats-tls): the overlay renders and validates, servers get their
certificate and clients the CA only; with a throwaway CA (trustme) the component's config runs a real server that
the services' own connection code reaches over TLS, while a client without the CA is refused."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import nats
import pytest
import trustme
import yaml

from libs.bus.broker import make_broker
from libs.bus.nats import connect
from libs.core.settings import CommonSettings
from ops.access import components
from ops.nats_auth import password_variable, routes_config
from tests.integration.deploy.test_k8s import K8S_VERSION, pod_specs
from tests.integration.deploy.tools import DEPLOY, tool
from tests.helpers import free_port, wait_until_listening

COMPONENT = DEPLOY / "k8s" / "components" / "nats-tls"
PASSWORDS = {password_variable(c): f"canary-{c}-tls" for c in components()}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> list[dict]:
    overlay = tmp_path_factory.mktemp("overlay")
    base = os.path.relpath(DEPLOY / "k8s", overlay)
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [{base}]\ncomponents: [{base}/components/nats-tls]\n")
    done = subprocess.run([tool("kubectl"), "kustomize", str(overlay)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [r for r in yaml.safe_load_all(done.stdout) if r]


def test_the_tls_overlay_validates_and_gives_clients_the_ca_only(rendered: list[dict]) -> None:
    for resource in rendered:
        kubernetes_validate.validate(resource, K8S_VERSION, strict=True)
    config = next(r for r in rendered if r["kind"] == "ConfigMap" and r["metadata"]["name"].startswith("xbot-config"))
    assert config["data"]["XBOT_NATS_URL"] == "tls://nats:4222"
    for name, pod in pod_specs(rendered).items():
        tls = [v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "nats-tls"]
        if name == "nats":
            assert tls and "items" not in tls[0]["secret"]
        elif name in ("xbot-db-roles", "alertmanager"):
            assert tls == []  # no NATS client
        else:
            assert [i["key"] for i in tls[0]["secret"]["items"]] == ["ca.crt"], name


def test_the_component_config_is_the_base_plus_tls() -> None:
    with_tls = (COMPONENT / "nats.conf").read_text()
    stripped = re.sub(r"\n# TLS for clients[^\n]*\ntls \{.*?\n\}\n", "", with_tls, flags=re.S)
    stripped = re.sub(r"  # TLS between routes[^\n]*\n  tls \{.*?\n  \}\n", "", stripped, flags=re.S)
    header = ("# deploy/k8s/nats/nats.conf with", "# is the base config")
    stripped = "\n".join(line for line in stripped.splitlines() if not line.startswith(header)) + "\n"
    assert stripped == (DEPLOY / "k8s" / "nats" / "nats.conf").read_text()


async def test_a_real_server_with_the_components_config_serves_tls(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("nats", "127.0.0.1", "localhost", "*.nats-headless")
    tls_dir, config_dir, routes_dir = tmp_path / "tls", tmp_path / "config", tmp_path / "routes"
    for d in (tls_dir, config_dir, routes_dir):
        d.mkdir()
    cert.private_key_pem.write_to_path(str(tls_dir / "tls.key"))
    cert.cert_chain_pems[0].write_to_path(str(tls_dir / "tls.crt"))
    ca.cert_pem.write_to_path(str(tls_dir / "ca.crt"))
    conf = (COMPONENT / "nats.conf").read_text().replace("/etc/nats/tls", str(tls_dir)) \
        .replace("/data/jetstream", str(tmp_path / "js")).replace("/var/run/nats/nats.pid", str(tmp_path / "pid"))
    (config_dir / "nats.conf").write_text(conf)
    (config_dir / "auth.conf").write_text((DEPLOY / "k8s" / "nats" / "auth.conf").read_text())
    (routes_dir / "routes.conf").write_text(routes_config("canary-route-tls"))
    port = free_port()
    proc = subprocess.Popen(
        [tool("nats-server"), "-c", str(config_dir / "nats.conf"), "-a", "127.0.0.1", "-p", str(port),
         "-m", str(free_port()), "--cluster", f"nats://127.0.0.1:{free_port()}"],
        env={**os.environ, "POD_NAME": "nats-0", **PASSWORDS}, stdout=(tmp_path / "server.log").open("w"),
        stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, port, tmp_path / "server.log")
        settings = CommonSettings(nats_url=f"tls://127.0.0.1:{port}", nats_user="operator",
                                  nats_password=PASSWORDS[password_variable("operator")],
                                  nats_tls_ca=str(tls_dir / "ca.crt"))
        nc = await connect(settings)
        assert nc.connected_url.scheme == "tls"
        await nc.close()
        poster = CommonSettings(nats_url=settings.nats_url, nats_user="poster", nats_tls_ca=settings.nats_tls_ca,
                                nats_password=PASSWORDS[password_variable("poster")])
        broker = make_broker(poster, service="poster")
        await broker.connect()
        await broker.stop()
        # Without the CA the server's certificate is not trusted.
        with pytest.raises(Exception) as refused:  # noqa: B017 - the certificate error, as nats-py wraps it
            await asyncio.wait_for(nats.connect(settings.nats_url, user="operator",
                                                password=PASSWORDS[password_variable("operator")],
                                                allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2),
                                   15)
        assert not isinstance(refused.value, TimeoutError)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
