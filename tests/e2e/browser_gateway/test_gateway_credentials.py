"""The gateway does its job as its own NATS user (ops/access.py) on a real nats-server running the generated
users: it answers the poster's requests, the planner's write request never reaches it, and the server refuses
nothing the gateway itself does (start, registration, answers)."""

from __future__ import annotations

import pytest

from libs.bus.broker import make_broker
from libs.bus.gateway import GatewayClient
from libs.bus.provision import provision_streams
from libs.contracts.gateway import GatewayError
from libs.core.settings import CommonSettings
from services.browser_gateway.app import GatewayApp
from tests.e2e.browser_gateway.conftest import gateway_settings
from tests.integration.security.conftest import credentials, secure_nats  # noqa: F401 - fixtures

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]


async def test_the_gateway_answers_the_poster_and_never_the_planner(servers, sandbox, session_file, clock,
                                                                    secure_nats, credentials,  # noqa: F811
                                                                    namespace, tmp_path) -> None:
    def as_(component: str) -> CommonSettings:
        return CommonSettings(nats_url=secure_nats, nats_user=component, nats_password=credentials.nats[component],
                              namespace=namespace)

    operator = make_broker(as_("operator"), service="operator")
    await operator.connect()
    await provision_streams(operator.config.connection_state.stream, namespace)
    settings = gateway_settings(servers, sandbox.base_url, session_file, nats_url=secure_nats,
                                nats_user="browser_gateway", nats_password=credentials.nats["browser_gateway"],
                                namespace=namespace)
    app = GatewayApp(settings, clock=clock)
    await app.start()
    brokers = {c: make_broker(as_(c), service=c) for c in ("poster", "planner")}
    for broker in brokers.values():
        await broker.connect()
    try:
        poster = GatewayClient(brokers["poster"], namespace, timeout=120)
        # A read the poster may request (its read-back); login_check is not in its row, and is refused.
        assert (await poster.own_timeline(limit=5)) is not None
        planner = GatewayClient(brokers["planner"], namespace, timeout=2)
        with pytest.raises(GatewayError) as refused:
            await planner.post_tweet("the planner may not post")
        assert refused.value.code == "timeout"
        log = (tmp_path / "nats-server.log").read_text()
        violations = [line for line in log.splitlines() if "Violation" in line]
        assert violations and all('"$G/user:planner"' in line and ".browser.post_tweet" in line
                                  for line in violations), violations
    finally:
        for broker in brokers.values():
            await broker.stop()
        await app.stop()
        await operator.stop()
