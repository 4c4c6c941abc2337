"""What a service loads when it starts is part of its memory (README "Memory (measured by the demo)"): heavy
libraries load where they are used, so the services that never use them stay without."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ops.infra import ROOT
from ops.supervisor import Supervisor

# Each is ~6-10 MB resident in every process that imports it (numpy ~10, tldextract with requests ~7, tweepy with
# oauthlib ~6, ONNX Runtime ~19).
HEAVY = ("numpy", "tldextract", "requests", "tweepy", "oauthlib", "onnxruntime")


@pytest.mark.slow
def test_the_poster_the_gateway_and_the_console_start_without_the_heavy_libraries() -> None:
    script = (
        "import json, sys\n"
        "import services.poster.__main__, services.poster.app\n"
        "import services.browser_gateway.__main__, services.browser_gateway.app\n"
        "import services.console.__main__, services.console.app\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.slow
def test_the_names_of_the_lazy_packages_still_load() -> None:
    # The names libs.text and libs.gates give load their module on first use; each must resolve, and numpy comes
    # with the embedding names only.
    script = (
        "import json, sys\n"
        "import libs.gates, libs.text\n"
        "before = 'numpy' in sys.modules\n"
        "missing = [f'{p.__name__}.{n}' for p in (libs.text, libs.gates) for n in p.__all__ if not hasattr(p, n)]\n"
        "print(json.dumps([before, 'numpy' in sys.modules, missing]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, True, []]


@pytest.mark.slow
def test_supervised_services_get_two_malloc_arenas_and_one_blas_thread_unless_told_otherwise(tmp_path: Path) -> None:
    show = [sys.executable, "-c",
            "import os; print(os.environ.get('MALLOC_ARENA_MAX'), os.environ.get('OPENBLAS_NUM_THREADS'))"]
    sup = Supervisor(env={"PATH": "/usr/bin:/bin"}, cwd=ROOT, log_dir=tmp_path)
    sup.add("default", show)
    sup.add("operator", show, env={"PATH": "/usr/bin:/bin", "MALLOC_ARENA_MAX": "4", "OPENBLAS_NUM_THREADS": "2"})
    sup.start_all()
    for child in sup.children.values():
        assert child.proc is not None and child.proc.wait(timeout=60) == 0
    assert (tmp_path / "default.log").read_text().strip() == "2 1"
    assert (tmp_path / "operator.log").read_text().strip() == "4 2"
