"""mypy and ruff over the tree, as part of the suite (configuration in pyproject.toml).

mypy is strict for libs and for the pure domain modules of each service (those that import no I/O library,
directly or through another module of the project) and normal for the rest of services/; the list of strict
modules in pyproject.toml is checked here against the modules that are actually pure, so a new pure module is
held to the strict rules as soon as it exists.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# mypy from a cold cache (every fresh clone) takes about half a minute alone and minutes under load. Collected
# near the end of the suite, the file would keep one xdist worker busy after the other had run out of work; as a
# `long` file it starts with the first ones, and the unit tests after it even the two workers out.
pytestmark = pytest.mark.long(minutes=1)
# Libraries that reach a server, a browser, a process or the network, and the layers of libs built on them.
IO_LIBRARIES = ("asyncpg", "nats", "faststream", "aiohttp", "playwright", "openai", "tweepy", "httpx", "socket",
                "subprocess", "sqlite3", "oauthlib", "psutil", "libs.bus", "libs.store", "libs.runtime")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow  # starts ruff
def test_ruff_finds_nothing() -> None:
    out = _run("ruff", "check", "--no-fix", "--output-format", "concise", ".")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow  # starts mypy
def test_mypy_finds_nothing() -> None:
    out = _run("mypy")
    assert out.returncode == 0, out.stdout + out.stderr


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for top in ("libs", "services") for p in (ROOT / top).rglob("*.py")}


@functools.cache  # _does_io asks again for each path that reaches the module
def _imports(module: str) -> frozenset[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return frozenset(names)


@functools.cache
def _does_io(module: str, seen: frozenset[str] = frozenset()) -> bool:
    for name in _imports(module):
        if any(name == lib or name.startswith(lib + ".") for lib in IO_LIBRARIES):
            return True
        if name in MODULES and name != module and name not in seen and _does_io(name, seen | {module}):
            return True
    return False


def test_the_strict_modules_are_exactly_the_pure_domain_modules() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    strict = next(o for o in config if o.get("disallow_untyped_defs"))
    listed = set(strict["module"]) - {"libs.*"}
    packages = {m for m, p in MODULES.items() if p.name == "__init__.py"}
    pure = {m for m in MODULES if m.startswith("services.") and m not in packages and not m.endswith("__main__")
            and not _does_io(m)}
    assert "libs.*" in strict["module"]
    assert sorted(pure - listed) == [], "pure domain modules mypy does not check strictly: add them to pyproject.toml"
    assert sorted(listed - pure) == [], "modules listed as pure that do I/O (or no longer exist)"


def test_no_type_ignore_in_services() -> None:
    found = [f"{p.relative_to(ROOT)}:{n}" for p in (ROOT / "services").rglob("*.py")
             for n, line in enumerate(p.read_text().splitlines(), 1) if "type: ignore" in line]
    assert found == []
