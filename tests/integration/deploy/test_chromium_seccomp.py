"""The optional k8s component that gives the gateway's pod the seccomp profile keeping Chromium's sandbox
(deploy/seccomp/chromium.json, run for real by tests/e2e/browser_gateway/test_seccomp_profile.py): the overlay
renders and validates, the gateway alone gets the node-local profile, every other pod keeps RuntimeDefault."""

from __future__ import annotations

import os
import subprocess

import kubernetes_validate
import yaml

from tests.integration.deploy.test_k8s import K8S_VERSION, pod_specs
from tests.integration.deploy.tools import DEPLOY, tool


def test_the_overlay_gives_the_gateway_alone_the_chromium_profile(tmp_path) -> None:
    base = os.path.relpath(DEPLOY / "k8s", tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [{base}]\ncomponents: [{base}/components/chromium-seccomp]\n")
    done = subprocess.run([tool("kubectl"), "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rendered = [r for r in yaml.safe_load_all(done.stdout) if r]
    for resource in rendered:
        kubernetes_validate.validate(resource, K8S_VERSION, strict=True)
    profiles = {name: pod["securityContext"]["seccompProfile"] for name, pod in pod_specs(rendered).items()}
    assert profiles.pop("browser-gateway") == {"type": "Localhost", "localhostProfile": "xbot/chromium.json"}
    assert profiles and all(p == {"type": "RuntimeDefault"} for p in profiles.values()), profiles
