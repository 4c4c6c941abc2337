"""Fixtures of the sandbox e2e tests (the helpers live in sandbox_harness.py)."""

from tests.e2e.sandbox.sandbox_harness import browser  # noqa: F401  (a module-scoped Chromium)
