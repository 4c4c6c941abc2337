"""The automation-suspicion model in the running sandbox: the legacy schedule gets X's automation notice, then a
lock that expires; a person's days never come near it; the score is on the ground-truth API only; the switch,
the admin reset and a restart do what they say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp

from sandbox.schedules import human_days, legacy_day, local_midnight
from tests.e2e.sandbox.sandbox_harness import frozen_clock, http_session, launch_sandbox
from tests.integration.sandbox.guardian_harness import Player, page, set_time

MIDNIGHT = local_midnight(datetime(2025, 3, 4, tzinfo=UTC), ZoneInfo("UTC"))
AUTOMATION, LOCKED = 226, 326


def at(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def play_legacy(tmp_path, **overrides) -> tuple[Player, object]:
    """The legacy day against a fresh sandbox, until X locks the account (or the day ends)."""
    clock = frozen_clock()
    sb = await launch_sandbox(tmp_path / "world.sqlite3", clock, **overrides)
    set_time(clock, MIDNIGHT - 60)
    player = Player(sb, await http_session(sb))
    for step in legacy_day(MIDNIGHT):
        await player.play(step)
        if player.codes[-1][1] == LOCKED:
            break
    return player, sb


async def test_the_legacy_day_gets_the_notice_then_a_lock_that_expires(tmp_path):
    player, sb = await play_legacy(tmp_path)
    try:
        codes = [code for _, code in player.codes]
        assert AUTOMATION in codes and LOCKED in codes
        notice, lock = codes.index(AUTOMATION), codes.index(LOCKED)
        assert set(codes[:notice]) == {"created"} and set(codes[notice:lock]) == {AUTOMATION}
        posts = sum(step.kind == "post" for step, _ in player.codes[:lock])
        replies = sum(step.kind == "reply" for step, _ in player.codes[:lock])
        assert posts >= 15 and replies >= 150  # about 17 posts and 200 interactions, as the legacy notes say
        locked_at = player.codes[lock][0].at

        # Locked: every page sends the browser to X's lock page, and the ground truth says until when.
        final, html = await page(player.http, "/home")
        assert final == "/account/access" and "Your account has been locked." in html
        truth = await sb.admin("GET", "/sim/suspicion")
        assert truth["state"] == "locked" and truth["max_score"] >= truth["thresholds"]["lock"] == 70
        assert len(truth["locks"]) == 1 and truth["notices"] == lock - notice
        lock_start, lock_end = (at(truth["locks"][0][k]) for k in ("started_at", "until"))
        assert lock_end - lock_start == timedelta(hours=12).total_seconds() and lock_end == at(truth["locked_until"])
        # The write that pushed the score over the threshold was the last one X took; the next one met the lock.
        assert player.codes[lock - 1][0].at == lock_start < locked_at

        # The lock expires after its documented time, and the score starts afresh.
        set_time(sb.clock, lock_end - 1)
        assert (await page(player.http, "/home"))[0] == "/account/access"
        set_time(sb.clock, lock_end + 1)
        assert (await page(player.http, "/home"))[0] == "/home"
        truth = await sb.admin("GET", "/sim/suspicion")
        assert truth["state"] == "ok" and truth["score"] < 10 and at(truth["since"]) == lock_end
    finally:
        await player.http.close()
        await sb.stop()


async def test_a_persons_days_never_come_near_the_notice(tmp_path):
    clock = frozen_clock()
    sb = await launch_sandbox(tmp_path / "world.sqlite3", clock)
    set_time(clock, MIDNIGHT + 6 * 3600)
    player = Player(sb, await http_session(sb))
    try:
        for step in human_days(MIDNIGHT, 2, seed=11):
            await player.play(step)
        assert {code for _, code in player.codes} == {"created"} and player.limited_pages == 0
        truth = await sb.admin("GET", "/sim/suspicion")
        assert truth["state"] == "ok" and truth["max_score"] <= 0.25 * truth["thresholds"]["notice"]
        days = (await sb.admin("GET", "/sim/activity"))["days"]
        assert [d["date"] for d in days] == ["2025-03-04", "2025-03-05"]
        for day in days:
            assert 100 <= day["posts_viewed"] <= 1000 and 15 <= day["writes"] <= 50, day
    finally:
        await player.http.close()
        await sb.stop()


async def test_switched_off_the_model_keeps_the_score_but_never_acts(tmp_path):
    player, sb = await play_legacy(tmp_path, suspicion=False)
    try:
        assert {code for _, code in player.codes} == {"created"} and len(player.codes) == 217
        truth = await sb.admin("GET", "/sim/suspicion")
        assert truth["enforced"] is False and truth["state"] == "ok" and truth["locks"] == []
        assert truth["max_score"] >= truth["thresholds"]["lock"]
    finally:
        await player.http.close()
        await sb.stop()


async def test_the_lock_survives_a_restart_and_the_admin_reset_lifts_it(tmp_path):
    player, sb = await play_legacy(tmp_path)
    await player.http.close()
    counts = (await sb.admin("GET", "/sim/activity"))["last_24h"]
    await sb.stop()
    sb = await launch_sandbox(tmp_path / "world.sqlite3", sb.clock)  # the same world file, the same moment
    http = await http_session(sb)
    try:
        assert (await page(http, "/home"))[0] == "/account/access"
        assert (await sb.admin("GET", "/sim/activity"))["last_24h"] | {"logins": 0} == counts | {"logins": 0}
        await sb.admin("POST", "/admin/suspicion/reset")
        assert (await page(http, "/home"))[0] == "/home"
        truth = await sb.admin("GET", "/sim/suspicion")
        assert truth["state"] == "ok" and truth["max_score"] < 10 and truth["locks"][0]["until"] == truth["since"]
    finally:
        await http.close()
        await sb.stop()


async def test_the_score_is_on_the_ground_truth_api_only(tmp_path):
    clock = frozen_clock()
    sb = await launch_sandbox(tmp_path / "world.sqlite3", clock)
    http = await http_session(sb)
    try:
        async with aiohttp.ClientSession() as anonymous:
            for token in (None, "wrong"):
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                for path in ("/sim/suspicion", "/sim/activity"):
                    async with anonymous.get(sb.url + path, headers=headers) as response:
                        assert response.status == 401
        for path in ("/home", "/xbot_demo", "/search?q=sleep"):
            html = (await page(http, path))[1]
            assert "suspicion" not in html.lower() and "score" not in html.lower()
        account = await sb.admin("GET", "/admin/account")
        assert "suspicion" not in str(account) and "score" not in str(account)
    finally:
        await http.close()
        await sb.stop()
