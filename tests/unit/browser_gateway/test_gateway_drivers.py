"""BrowserGateway.run with fake drivers: writes and reads go to the drivers the settings name, and one driver's
failures open that driver's breakers only."""

from __future__ import annotations

import pytest

from libs.contracts.gateway import (
    GatewayError, GatewayRequest, OwnTimelineRequest, PostResult, PostTweetRequest, TweetList,
)
from libs.bus.control import WriteSwitch
from libs.core.clock import Clock
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.settings import GatewaySettings


class FakeDriver:
    def __init__(self, name: str, fail_with: str | None = None) -> None:
        self.name = name
        self.fail_with = fail_with
        self.served: list[str] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def reload_session(self) -> None: ...

    def session_hint(self) -> str:
        return f"log in to {self.name}"

    async def perform(self, request: GatewayRequest):
        self.served.append(request.OP)
        if self.fail_with:
            raise GatewayError(self.fail_with, "fake failure")
        return PostResult(tweet_ids=["1"], id_source="create_tweet_response") if request.WRITES \
            else TweetList(tweets=[])


class OpenSwitch:
    async def read(self) -> WriteSwitch:
        return WriteSwitch(False, 1)


async def test_writes_and_reads_go_to_their_drivers_and_breakers_stay_apart() -> None:
    settings = GatewaySettings(x_write_driver="api", x_read_driver="browser", x_api_client_id="id",
                               breaker_failures=2)
    api, browser = FakeDriver("api", fail_with="timeout"), FakeDriver("browser")
    gw = BrowserGateway(settings, Clock(), drivers={"api": api, "browser": browser},
                        kill_switch=OpenSwitch())
    for _ in range(2):
        with pytest.raises(GatewayError):
            await gw.run(PostTweetRequest(text="hello"))
    with pytest.raises(GatewayError) as err:  # the API's transport breaker is open now: not even tried
        await gw.run(PostTweetRequest(text="hello"))
    assert err.value.code == "browser_crashed" and api.served == ["post_tweet", "post_tweet"]
    assert isinstance(await gw.run(OwnTimelineRequest()), TweetList)  # reads through the browser go on
    assert browser.served == ["own_timeline"]


async def test_a_driver_whose_session_lapsed_makes_the_gateway_unready() -> None:
    settings = GatewaySettings(x_write_driver="api", x_read_driver="browser", x_api_client_id="id")
    gw = BrowserGateway(settings, Clock(), drivers={"api": FakeDriver("api", "session_expired"),
                                                    "browser": FakeDriver("browser")},
                        kill_switch=OpenSwitch())
    with pytest.raises(GatewayError):
        await gw.run(PostTweetRequest(text="hello"))
    assert not gw.ready() and gw.not_ready_reason() == "log in to api"
