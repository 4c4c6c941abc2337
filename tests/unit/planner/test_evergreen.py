"""Which evergreen posts the planner queues while the model is down: best predicted reward first, never a tweet
of ours of the duplicate window again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from libs.contracts.events import Choice
from libs.niche import load_niche
from libs.text import content_hash
from services.planner.choices import Policy
from services.planner.evergreen import EvergreenPost, predicted_reward, usable

CONFIG = load_niche()
NOW = datetime(2025, 3, 1, 9, tzinfo=UTC)


def post(text: str, content_type: str, *, used: timedelta | None = None, parts: tuple[str, ...] | None = None):
    choice = Choice(content_type=content_type, topic="sleep", format="single", hour=10, voice="owner",
                    hook_style="question")
    parts = parts or (text,)
    return EvergreenPost(content_hash("\n".join(parts)), "post", parts, choice, 0.01, "gpt-4o",
                         NOW - timedelta(days=40), None if used is None else NOW - used)


# A learner that prefers stories, then myths, and thinks little of the rest.
POLICY = Policy(version="m-1", propensities={"content_type": {
    t: {"story": 0.6, "myth_busting": 0.3}.get(t, 0.1 / (len(CONFIG.content_types) - 2))
    for t in CONFIG.content_types}})


def pick(posts, recent=(), n=10):
    return [p.parts[0] for p in usable(posts, policy=POLICY, config=CONFIG, now=NOW,
                                       recent_tweet_hashes={content_hash(t) for t in recent}, n=n)]


def test_best_predicted_reward_first_and_no_more_than_the_slots() -> None:
    posts = [post("tip", "practical_tip"), post("story", "story"), post("myth", "myth_busting")]
    assert pick(posts) == ["story", "myth", "tip"]
    assert pick(posts, n=2) == ["story", "myth"]
    assert predicted_reward(posts[1].choice, POLICY, CONFIG) > predicted_reward(posts[0].choice, POLICY, CONFIG)
    # Without a model every choice is as good: the oldest draft goes first.
    uniform = usable(posts, policy=Policy(), config=CONFIG, now=NOW, recent_tweet_hashes=set(), n=3)
    assert len(uniform) == 3


def test_never_a_tweet_of_ours_of_the_duplicate_window_again() -> None:
    window = timedelta(days=CONFIG.gates.duplicate_window_days)
    posts = [
        post("queued last week", "story", used=timedelta(days=7)),
        post("queued two months ago", "story", used=2 * window),
        post("fresh", "myth_busting"),
        post("thread", "myth_busting", parts=("hook", "a part we posted yesterday", "end")),
    ]
    assert pick(posts, recent=["a part we posted yesterday"]) == ["queued two months ago", "fresh"]
    # The same text twice in the pool is queued once.
    twins = [post("same words", "story"), post("same words", "myth_busting")]
    assert pick(twins) == ["same words"]


def test_the_owners_decisions_filter_the_pool() -> None:
    story, myth, tip = post("story", "story"), post("myth", "myth_busting"), post("tip", "practical_tip")
    decisions = {story.content_hash: "rejected", myth.content_hash: "approved"}

    def chosen(kinds):
        return [p.parts[0] for p in usable([story, myth, tip], policy=POLICY, config=CONFIG, now=NOW,
                                           recent_tweet_hashes=set(), n=10, decisions=decisions,
                                           approval_kinds=kinds)]
    # Approval off (XBOT_APPROVAL=none): a rejected post is never queued, an undecided one may be.
    assert chosen(frozenset()) == ["myth", "tip"]
    # Approval on for posts: only what the owner approved.
    assert chosen(frozenset({"post", "thread"})) == ["myth"]
