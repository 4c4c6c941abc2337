"""Our own conversations end to end (issue 24, item 5): the replies our post (and a reply of ours) got in the
sandbox, read through the real gateway (Chromium, the status page, the activity budget's "conversations" class) by
the harvester's job, become opportunities of source "conversation": each once, a hostile one never, and one
person's second reply only once their first was answered; a person in a crisis is left to the owner (once); a tweet
of ours gone from X is not read again. (The
planner's side, answering them, is tests/integration/planner.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from libs.contracts.events import OpportunityFound, ReplyLeftToOwner, TweetPosted
from services.harvester.app import build
from services.harvester.jobs import HarvesterJobs
from services.harvester.settings import HarvesterSettings
from tests.e2e.harvester_scraper.conftest import Harness, drop_schema, started
from tests.helpers import eventually, publish

pytestmark = [pytest.mark.chromium, pytest.mark.asyncio(loop_scope="module")]

POST = "Morning light sets the body clock: ten minutes outside before 9am and most people fall asleep sooner."


@pytest.fixture(scope="module")
def gateway_overrides() -> dict:
    # The activity budget on, all day, pages a simulated second or two apart: the reads are counted in their class.
    return dict(activity_budget=True, active_hours_start=0, active_hours_end=0,
                page_gap_min=timedelta(seconds=1), page_gap_max=timedelta(seconds=2))


def settings_of(h: Harness) -> HarvesterSettings:
    return HarvesterSettings(**h.common, news_feeds=(), harvest_profile_reads=0)


async def conversation_opportunities(h: Harness) -> list[OpportunityFound]:
    return [e for _, _, e in await h.events("harvester")
            if isinstance(e, OpportunityFound) and e.source == "conversation"]


async def test_replies_to_our_post_are_offered_once_hostile_ones_never_and_a_person_not_twice_at_once(
        harness, database_url):
    h = harness
    await drop_schema(database_url, "harvester")
    settings = settings_of(h)
    post = h.world.create_tweet(POST)
    await publish(settings, [TweetPosted(content_id="c-post", kind="post", tweet_ids=[post.id], url="http://x/p",
                                         posted_at=h.clock.now(), text=POST)])
    ana = h.world.add_audience_reply(post.id, "ana_e2e", "How long before it works for most people?",
                                     kind="question").tweet
    troll = h.world.add_audience_reply(post.id, "troll_e2e", "Shut up, bot. Nobody asked for your snake oil.",
                                       kind="hostile").tweet
    ana_again = h.world.add_audience_reply(post.id, "ana_e2e", "And does it work for night shifts?",
                                           kind="question").tweet
    ben = h.world.add_audience_reply(post.id, "ben_e2e", "Good reminder, saving this.", kind="comment").tweet
    dee = h.world.add_audience_reply(post.id, "dee_e2e", "I've been saving up my sleeping pills. Not sure why I'm "
                                     "telling a health account.", kind="crisis").tweet
    budget = h.gateway_app.gateway.guardian.budget
    reads_before = budget.used(h.clock.now(), "day", "conversations")["page_loads"]

    svc = await started(build(settings))
    try:
        assert svc.scheduler is not None
        await svc.scheduler.stop()  # the jobs run by hand below
        jobs = svc.worker
        assert isinstance(jobs, HarvesterJobs)

        def applied(table: str, tweet_id: str) -> Callable[[], Awaitable[bool]]:
            """Whether the harvester's projection has the tweet in ``table`` yet."""
            async def check() -> bool:
                return bool(await jobs.pool.fetchval(f"SELECT count(*) FROM {table} WHERE tweet_id = $1", tweet_id))
            return check

        await eventually(applied("own_posts", post.id), timeout=20)
        first = await jobs.read_conversations()
        found = await conversation_opportunities(h)
        ids = [e.tweet_id for e in found]
        assert ana.id in ids and ben.id in ids, (first, found)
        assert troll.id not in ids and ana_again.id not in ids, found  # hostile; Ana's first reply waits
        # At least: the sandbox's audience draws replies of its own under the post (seeded by its id, so a run
        # now and then has a second reply from one person or a crisis among them, about 1 % of posts).
        assert first["rejected"].get("hostile_abuse", 0) >= 1 and first["rejected"]["same_person_waiting"] >= 1
        # Dee is left to the owner: named, not quoted, under our post, once.
        assert dee.id not in ids and first["rejected"]["crisis"] >= 1, first
        left = [e for _, _, e in await h.events("harvester") if isinstance(e, ReplyLeftToOwner)]
        assert [(e.tweet_id, e.author) for e in left if e.tweet_id == dee.id] == [(dee.id, "dee_e2e")], left
        assert {e.conversation_id for e in left} == {post.id}, left
        for e in found:
            assert e.conversation_id == post.id and e.is_reply
            assert h.world.conversations.get(e.tweet_id).kind != "hostile"  # drawn replies too: never hostile

        # Our answer to Ana, posted through the gateway as the poster does (a reply on her reply's status page),
        # and reported: her second reply is offered now, nothing twice.
        answer_id = (await h.gateway.reply(ana.id, "About a week for most people: the light moves the clock a "
                                           "little each day.", author="ana_e2e")).tweet_ids[0]
        assert h.world.tweet(answer_id).reply_to_handle == "ana_e2e"
        await publish(settings, [TweetPosted(content_id="c-answer", kind="reply", tweet_ids=[answer_id],
                                             url="http://x/a", posted_at=h.clock.now(), text="About a week",
                                             reply_to_tweet_id=ana.id, reply_to_author="ana_e2e")])

        await eventually(applied("replied", ana.id), timeout=20)
        await eventually(applied("left_to_owner", dee.id), timeout=20)
        second = await jobs.read_conversations()
        again = await conversation_opportunities(h)
        ids = [e.tweet_id for e in again]
        assert ana_again.id in ids and troll.id not in ids, (second, again)
        assert len(ids) == len(set(ids))  # each reply offered once
        # Dee's reply is known: left (and alerted on) once; a crisis counted now is a new drawn reply's.
        left_now = [e for _, _, e in await h.events("harvester") if isinstance(e, ReplyLeftToOwner)]
        assert second["rejected"].get("crisis", 0) == len(left_now) - len(left), (second, left_now)
        assert [e.tweet_id for e in left_now].count(dee.id) == 1, left_now
        # Our answer is not read for replies: a reply to it is Ana again, whom the planner would not answer next.
        assert second["read"] == first["read"] == 1

        # A reply of ours under a stranger's tweet, and someone's reply to it: read too (X shows the stranger's
        # tweet above ours on our reply's page; only what is below ours is offered), in our reply's conversation.
        # (one whose author lets us reply: some limit who can, and X refuses the reply)
        stranger = next(v for v in h.world.search("sleep", latest=True)
                        if not v.own and v.in_reply_to is None and v.can_reply)
        ours = h.world.create_tweet("Daylight before noon did more for my sleep than any supplement I tried.",
                                    in_reply_to=stranger.id)
        await publish(settings, [TweetPosted(content_id="c-ours", kind="reply", tweet_ids=[ours.id],
                                             url="http://x/r", posted_at=h.clock.now(), text=ours.text,
                                             reply_to_tweet_id=stranger.id, reply_to_author=stranger.handle)])
        cat = h.world.add_audience_reply(ours.id, "cat_e2e", "Which supplements did you try first?",
                                         kind="question").tweet
        await eventually(applied("own_posts", ours.id), timeout=20)
        third = await jobs.read_conversations()
        offered = {e.tweet_id: e for e in await conversation_opportunities(h)}
        assert cat.id in offered and offered[cat.id].conversation_id == ours.id, (third, list(offered))
        assert stranger.id not in offered and third["read"] == 2  # our reply (never read), then our post

        # Our reply is deleted on X (by the owner there; the console's deletion or X's removal look the same): the
        # next read finds its page missing, and it is not read again.
        assert h.world.delete_tweet(ours.id) == "deleted"
        fourth = await jobs.read_conversations()
        assert fourth["read"] == 2 and fourth["gone"] == 1, fourth
        fifth = await jobs.read_conversations()
        assert fifth["read"] == 1 and fifth["gone"] == 0, fifth  # our post alone
    finally:
        await svc.stop()
    # Every read went through the activity budget, in its own class.
    assert budget.used(h.clock.now(), "day", "conversations")["page_loads"] - reads_before == 4 + 2 + 1
