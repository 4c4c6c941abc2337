"""Write the AsyncAPI document of xbot's events from the services' own composition.

    python deploy/asyncapi/generate.py [OUT]      (default: deploy/asyncapi/xbot.asyncapi.yaml)

Each service's ``build(settings)`` declares its projections (what it consumes) and its events (what it
publishes); the gateway declares its request/reply operations. tests/unit/deploy/test_asyncapi.py fails when
the committed document is not what this writes.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from faststream.nats import NatsBroker  # noqa: E402
from faststream.specification import AsyncAPI  # noqa: E402

from libs.contracts.registry import PRODUCERS  # noqa: E402
from libs.runtime.service import document_publishers  # noqa: E402

from ops.registry import CONSUMERS as SERVICES  # noqa: E402
DEFAULT_OUT = Path(__file__).parent / "xbot.asyncapi.yaml"


# The document describes the default deployment, whatever this machine's XBOT_* variables say.
DOCUMENTED = {"nats_url": "nats://nats:4222", "namespace": "xbot"}


def document() -> str:
    brokers = []
    for name in SERVICES:
        app = importlib.import_module(f"services.{name}.app")
        brokers.append(app.build(app.Settings(**DOCUMENTED)).asyncapi_broker())
    gateway = importlib.import_module("services.browser_gateway.app")
    settings_mod = importlib.import_module("services.browser_gateway.settings")
    gateway_broker = gateway.GatewayApp(settings_mod.GatewaySettings(**DOCUMENTED)).broker
    document_publishers(gateway_broker, gateway.SERVICE, DOCUMENTED["namespace"])
    brokers.append(gateway_broker)
    # Producers declared in the contracts ahead of their service (the console's ApprovalRequested, issue 22).
    for producer in sorted(set(PRODUCERS) - {*SERVICES, gateway.SERVICE}):
        ahead = NatsBroker(DOCUMENTED["nats_url"])
        document_publishers(ahead, producer, DOCUMENTED["namespace"])
        brokers.append(ahead)
    spec = AsyncAPI(*brokers, title="xbot events", version="1",
                    description="Events between xbot's services (JetStream streams per producer; payloads travel "
                                "in the envelope of libs/contracts/base.py) and the browser gateway's "
                                "request/reply operations.")
    # Sorted keys: FastStream's own ordering of channels and messages varies from run to run.
    return yaml.safe_dump(spec.to_specification().to_jsonable(), sort_keys=True, allow_unicode=True)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    out.write_text(document())
    print(out)
