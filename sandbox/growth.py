"""Growth against the ground truth (issue 24, item 6; bench/growth.py): for every post and reply the account made in
the run, the followers its choice was expected to bring, against a uniform choice and the best choice of the same
slot. The account's past posts (sandbox/history.py) are not the run's choices: they are left out.

Evaluation only: the services never see this. Every figure is an expectation at maturity from the audience's
hidden model (sandbox/audience.py), at what the world knew when the tweet went out: the account's follower count
then (``followers_at_post``), the tweet's own text quality, format lift (AudienceModel.own_format_lift) and reach
penalty. Only the choice varies.

The choices of a slot:

* **a post** (a single or a thread's first part): every content type × topic × format of the audience, at every
  hour the planner could have chosen (``hours``: its active hours; the hour the tweet went out is always one).
  The arm of the post is the one the world inferred from its text (what the audience reacted to), not the one
  the planner meant: a draft that misses its arm is part of the system's choice.
* **a thread's later part**: the world draws it as the root's choice and keeps 0.3 of each count, floored
  (world.THREAD_PART_SHARE, world.scaled), so it is a slot of its own over the same choices, each valued at
  E[floor(0.3 × follows)] (AudienceModel.floored_follows_table: a part rarely keeps a follow). (A single's thread
  alternative is thus valued as its first part only: the parts it did not write are not imagined.)
* **a reply**: the targets the planner's pool held when it queued the reply (``reply_pools``: the evaluator
  reconstructs them from the event streams), each valued as if our reply had gone to it at the moment ours went
  out; our target is always one of them. Reply style and voice are not choices here: the world draws our replies
  without their effects (World._sample_reply passes none), so every style is worth the same to it. A reply with
  no pool given, or a reply in one of our own reply threads, is a slot of one choice: it adds the same to the
  policy, the uniform and the oracle figures.
* **an answer** in our own conversation (a reply to a reply our post got) is valued as a reply to that replier
  plus the answer's own follow chance (conversations.ANSWER_FOLLOW); its alternatives are the pool's as above.

Uniform is the mean over the slot's choices, oracle their maximum, policy the choice made. Sums are per 24-hour
day from ``since``; the share is (policy - uniform) / (oracle - uniform).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sandbox.conversations import ANSWER_FOLLOW
from sandbox.store import OwnTweet
from sandbox.world import DAY, HOUR, THREAD_PART_SHARE, World


@dataclass(frozen=True)
class Slot:
    """One tweet's expected follows under the choice made, a uniform choice and the best choice of its slot."""

    tweet_id: str
    kind: str  # post | reply
    at: float
    policy: float
    uniform: float
    oracle: float
    choices: int
    follows_drawn: int  # what the world actually drew for it (final count)


def share(policy: float, uniform: float, oracle: float) -> float | None:
    """(policy - uniform) / (oracle - uniform); None when the oracle has no advantage to share."""
    gap = oracle - uniform
    return None if gap <= 1e-12 else (policy - uniform) / gap


def of_choices(tweet_id: str, kind: str, at: float, values: np.ndarray, chosen: float, follows_drawn: int) -> Slot:
    return Slot(tweet_id, kind, at, policy=float(chosen), uniform=float(np.mean(values)),
                oracle=float(np.max(values)), choices=int(values.size), follows_drawn=follows_drawn)


def post_slot(world: World, tweet: OwnTweet, hours: Iterable[int]) -> Slot:
    """A post's slot: content type × topic × format × ``hours`` (and the hour it went out)."""
    assert tweet.choice is not None
    audience = world.audience
    quality, lift = audience.text_quality(tweet.text), audience.own_format_lift(tweet.text)
    if tweet.thread_root is not None:
        table = audience.floored_follows_table(followers=tweet.followers_at_post, quality=quality,
                                               reach_penalty=tweet.reach_penalty, share=THREAD_PART_SHARE,
                                               format_lift=lift)
    else:  # the penalty and the text's format lift scale the reach, as sample_engagement applies them
        table = audience.mean_follows_table(followers=tweet.followers_at_post, quality=quality) * max(
            1e-3, 1.0 - tweet.reach_penalty) * math.exp(lift)
    chosen = table[audience.index_of(tweet.choice)]
    columns = sorted({int(h) % 24 for h in hours} | {tweet.choice.hour})
    return of_choices(tweet.id, "post", tweet.created_at, table[..., columns], chosen, tweet.final.follows)


def reply_value(world: World, tweet: OwnTweet, target_id: str) -> float | None:
    """Expected follows of ``tweet`` (our reply: its text, follower count, penalty, time) had it answered
    ``target_id``; None when the world does not know that tweet or it did not exist yet."""
    target, answer_follows = world.population.tweet(target_id), 0.0
    if target is None:
        answered = world.audience_reply(target_id)
        if answered is None:
            return None
        target, answer_follows = answered.tweet, ANSWER_FOLLOW.get(answered.kind, 0.0)
    if target.created_at > tweet.created_at:
        return None
    age = (tweet.created_at - target.created_at) / HOUR
    follows = world.audience.expected_reply_follows(
        text=tweet.text, followers=tweet.followers_at_post, target_followers=target.author.followers,
        target_likes=target.final.at_age(age).likes, target_age_hours=age)
    return (1.0 - tweet.reach_penalty) * follows + answer_follows


def reply_slot(world: World, tweet: OwnTweet, pool: Sequence[str] | None) -> Slot | None:
    """A reply's slot: its target and the other targets of ``pool``; None when the world cannot value its own
    target (a reply to a tweet it does not know)."""
    if tweet.thread_root is not None or tweet.in_reply_to is None:
        # A later part of one of our own reply threads: drawn with no target (World._sample_reply), one choice.
        value = world.audience.expected_reply_follows(
            text=tweet.text, followers=tweet.followers_at_post, target_followers=tweet.followers_at_post,
            target_likes=0, target_age_hours=0.0) * (1.0 - tweet.reach_penalty) * THREAD_PART_SHARE
        return of_choices(tweet.id, "reply", tweet.created_at, np.array([value]), value, tweet.final.follows)
    chosen = reply_value(world, tweet, tweet.in_reply_to)
    if chosen is None:
        return None
    others = [v for t in dict.fromkeys(pool or ()) if t != tweet.in_reply_to
              and (v := reply_value(world, tweet, t)) is not None]
    return of_choices(tweet.id, "reply", tweet.created_at, np.array([chosen, *others]), chosen,
                      tweet.final.follows)


@dataclass
class Sums:
    posts: int = 0
    replies: int = 0
    choices: int = 0
    policy: float = 0.0
    uniform: float = 0.0
    oracle: float = 0.0
    follows_drawn: int = 0
    by_kind: dict[str, "Sums"] = field(default_factory=dict)

    def add(self, slot: Slot, *, nested: bool = True) -> None:
        self.posts += slot.kind == "post"
        self.replies += slot.kind == "reply"
        self.choices += slot.choices
        self.policy += slot.policy
        self.uniform += slot.uniform
        self.oracle += slot.oracle
        self.follows_drawn += slot.follows_drawn
        if nested:
            self.by_kind.setdefault(slot.kind, Sums()).add(slot, nested=False)

    def as_dict(self) -> dict:
        out = {"posts": self.posts, "replies": self.replies, "policy": round(self.policy, 4),
               "uniform": round(self.uniform, 4), "oracle": round(self.oracle, 4),
               "share": _rounded(share(self.policy, self.uniform, self.oracle)),
               "follows_drawn": self.follows_drawn,
               "choices_per_slot": round(self.choices / max(1, self.posts + self.replies), 1)}
        if self.by_kind:
            out["by_kind"] = {k: v.as_dict() for k, v in sorted(self.by_kind.items())}
        return out


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def by_day(slots: Iterable[Slot], *, since: float, until: float) -> tuple[list[Sums], Sums]:
    """Per 24-hour day from ``since`` (a tweet after ``until``, made while the services stopped, counts in the last
    day; one before ``since`` in the first), and over the whole period."""
    days = [Sums() for _ in range(max(1, math.ceil((until - since) / DAY - 1e-9)))]
    total = Sums()
    for slot in slots:
        index = min(len(days) - 1, max(0, math.floor((slot.at - since) / DAY)))
        days[index].add(slot)
        total.add(slot)
    return days, total


def growth(world: World, *, since: float, until: float, hours: Iterable[int] = range(24),
           reply_pools: Mapping[str, Sequence[str]] | None = None) -> dict:
    """The answer of /sim/growth: per day and in all, the policy's, uniform and oracle expected follows, the
    share, the follows drawn and the account's followers gained over the day."""
    hours = tuple(hours)
    pools = reply_pools or {}
    slots: list[Slot] = []
    unvalued: list[str] = []
    for tweet in world.run_tweets():  # the account's past is not a choice of the run
        if tweet.kind == "post":
            slots.append(post_slot(world, tweet, hours))
            continue
        slot = reply_slot(world, tweet, pools.get(tweet.id))
        if slot is None:
            unvalued.append(tweet.id)
        else:
            slots.append(slot)
    days, total = by_day(slots, since=since, until=until)
    rows = []
    for i, day in enumerate(days):
        start, end = since + i * DAY, min(until, since + (i + 1) * DAY)
        rows.append({"day": i + 1, "start": start, "end": end, **day.as_dict(),
                     "followers_gained": world.followers_at(end) - world.followers_at(start)})
    return {
        "days": rows,
        "total": {**total.as_dict(), "followers_gained": world.followers_at(until) - world.followers_at(since)},
        "hours": sorted({h % 24 for h in hours}),
        "replies_with_pool": sum(1 for s in slots if s.kind == "reply" and s.tweet_id in pools),
        "replies_unvalued": unvalued,
        "history_posts": len(world.history()),  # the account's past on X: not the run's, not in these figures
    }
