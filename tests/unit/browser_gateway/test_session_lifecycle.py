"""The session's lifecycle in the gateway, on a fake driver: a periodic login check inside the budget; on expiry
writes are held and SessionExpired published once; a new session file is picked up without a restart; writes
resume on the owner's `xbot resume` (a later write of the kill switch), or by themselves when configured so."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from libs.bus.control import WriteSwitch
from libs.contracts.events import SessionExpired
from libs.contracts.gateway import (
    GatewayError, GatewayRequest, LoginCheckResult, PostResult, PostTweetRequest, TweetList,
)
from services.browser_gateway.gateway import BrowserGateway
from services.browser_gateway.guardian_store import InMemoryGuardianStore
from services.browser_gateway.settings import GatewaySettings
from tests.unit.browser_gateway.test_guardian import StoppedClock


class Driver:
    name = "browser"

    def __init__(self) -> None:
        self.logged_in = True
        self.served: list[str] = []
        self.reloads = 0

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def reload_session(self) -> None:
        self.reloads += 1

    def session_hint(self) -> str:
        return "X session expired: run `xbot login`"

    async def perform(self, request: GatewayRequest):
        self.served.append(request.OP)
        if request.OP == "login_check":
            return LoginCheckResult(logged_in=self.logged_in)
        return PostResult(tweet_ids=["1"], id_source="create_tweet_response") if request.WRITES \
            else TweetList(tweets=[])


class Switch:
    def __init__(self) -> None:
        self.state = WriteSwitch(False, 3)

    async def read(self) -> WriteSwitch:
        return self.state

    def resume(self) -> None:
        self.state = WriteSwitch(False, self.state.revision + 1, "resumed")


class World:
    def __init__(self, tmp_path, **settings) -> None:
        self.session_file = tmp_path / "x_session.json"
        self.session_file.write_text("{}")
        self.clock = StoppedClock()
        self.driver = Driver()
        self.switch = Switch()
        self.events: list[object] = []

        async def publish(event) -> None:
            self.events.append(event)

        self.gw = BrowserGateway(
            GatewaySettings(session_file=self.session_file, login_check_interval=timedelta(hours=2), **settings),
            self.clock, drivers={"browser": self.driver}, kill_switch=self.switch, store=InMemoryGuardianStore(),
            publish=publish)

    def new_session_file(self) -> None:
        """What `xbot login` does: a new file (its modification time moves)."""
        self.session_file.write_text('{"cookies": []}')
        stat = self.session_file.stat()
        os.utime(self.session_file, (stat.st_atime, stat.st_mtime + 5))

    async def write_refused(self) -> GatewayError:
        with pytest.raises(GatewayError) as err:
            await self.gw.run(PostTweetRequest(text="hello"))
        return err.value


async def test_expiry_holds_writes_until_a_new_session_and_the_owners_resume(tmp_path) -> None:
    w = World(tmp_path)
    w.clock.offset = timedelta(hours=1, minutes=59)
    await w.gw.run(PostTweetRequest(text="an op X answered proves the session"))
    w.clock.offset = timedelta(hours=3)
    await w.gw.watch_step()
    assert w.driver.served == ["post_tweet"]  # not due: the post was an hour ago
    w.driver.served.clear()
    w.driver.logged_in = False
    w.clock.offset = timedelta(hours=4)
    await w.gw.watch_step()  # the periodic login check finds the session gone
    assert w.driver.served == ["login_check"]
    assert [type(e) for e in w.events] == [SessionExpired] and not w.gw.ready()
    assert (await w.write_refused()).code == "session_expired"
    await w.gw.watch_step()  # no new session, no check due: nothing happens, nothing is published again
    assert w.driver.served == ["login_check"] and len(w.events) == 1

    w.driver.logged_in = True
    w.new_session_file()
    await w.gw.watch_step()
    assert w.driver.reloads == 1 and w.driver.served == ["login_check", "login_check"] and w.gw.ready()
    err = await w.write_refused()  # a new session alone does not resume writes
    assert err.code == "session_expired" and "xbot resume" in err.message
    w.switch.resume()
    await w.gw.run(PostTweetRequest(text="hello"))
    assert w.gw.guardian.session_hold is None


async def test_writes_may_resume_by_themselves_when_configured(tmp_path) -> None:
    w = World(tmp_path, session_auto_resume=True)
    w.driver.logged_in = False
    w.clock.offset = timedelta(hours=2)
    await w.gw.watch_step()
    assert (await w.write_refused()).code == "session_expired"
    w.driver.logged_in = True
    w.new_session_file()
    await w.gw.watch_step()
    await w.gw.run(PostTweetRequest(text="hello"))
