"""The one list of xbot's services. The CLI, the demo, status, the AsyncAPI document and the test suites that must
cover every service read it here; a new service is added once, in this tuple.

Each entry is the service's package under ``services/``; ``python -m services.<name>`` runs it. Services with
projections are built from ``services.<name>.app`` (``build(Settings(...))``); the browser gateway has no
database and no projections, so code that needs event consumers uses :data:`CONSUMERS`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Start order matters to nobody (services wait for each other through NATS), but the gateway first means the
# first jobs find it answering.
SERVICES: tuple[str, ...] = ("browser_gateway", "planner", "poster", "harvester", "scraper", "learner", "notifier",
                           "console")
# The services that keep projections in PostgreSQL and read streams through durable consumers.
CONSUMERS: tuple[str, ...] = tuple(s for s in SERVICES if s != "browser_gateway")


def app_module(name: str) -> ModuleType:
    """``services.<name>.app``: its ``build(settings)`` and ``Settings``."""
    if name not in SERVICES:
        raise KeyError(f"unknown service {name!r}; one of: {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.app")
