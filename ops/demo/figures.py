"""The report's figures, computed from what the sandbox's admin API and the event streams said. Pure: no I/O.

Reward follows X's heavy-ranker weights, the same the learner optimises: r = log(1 + Σ w·count), the weighted
sum clipped at 0. Counts are the ones visible at the end of the run (what xbot itself could have read), not the
sandbox's hidden final counts.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

# Field of the sandbox's counts -> heavy-ranker weight.
WEIGHTS: dict[str, float] = {"likes": 0.5, "retweets": 1.0, "replies": 13.5, "profile_clicks": 12.0,
                             "negative": -74.0}
DIMENSIONS = ("content_type", "topic", "hour")


def reward(counts: Mapping[str, Any]) -> float:
    weighted = sum(w * float(counts.get(k) or 0) for k, w in WEIGHTS.items())
    return math.log1p(max(0.0, weighted))


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Item:
    """One thing we put on X: a post (a single, or the first part of a thread) or a reply to someone."""

    tweet_id: str
    kind: str  # "post" or "reply"
    created_at: datetime
    counts: Mapping[str, Any]
    choice: Mapping[str, Any] | None
    choice_source: str | None  # "planner" (ContentQueued) or "sandbox" (inferred from the text)
    thread_parts: int = 1

    @property
    def reward(self) -> float:
        return reward(self.counts)


@dataclass(frozen=True)
class Decision:
    """One choice the policy made, at the simulated time it made it."""

    at: datetime
    choice: Mapping[str, Any]


@dataclass
class EventLog:
    """What the demo read from the planner's, poster's and learner's streams (type, occurred_at, payload)."""

    events: list[tuple[str, datetime, dict]] = field(default_factory=list)

    def add(self, envelope: Mapping[str, Any]) -> None:
        self.events.append((str(envelope.get("type")), parse_time(str(envelope.get("occurred_at"))),
                            dict(envelope.get("payload") or {})))

    def of(self, event_type: str) -> list[tuple[datetime, dict]]:
        return [(at, p) for t, at, p in self.events if t == event_type]

    def counts(self) -> dict[str, int]:
        return dict(Counter(t for t, _, _ in self.events))

    def llm_spend_usd(self) -> float | None:
        usage = self.of("LlmUsageRecorded")
        return round(sum(float(p.get("cost_usd") or 0) for _, p in usage), 6) if usage else None

    def policy_version(self) -> str | None:
        models = self.of("ModelUpdated")
        if models:
            return str(models[-1][1].get("version"))
        queued = self.of("ContentQueued")
        return str(queued[-1][1].get("policy_version")) if queued else None

    def planned_choices(self) -> dict[str, dict]:
        """content_id -> the planner's choice."""
        return {p["content_id"]: p["choice"] for _, p in self.of("ContentQueued") if p.get("choice")}

    def posted_content(self) -> dict[str, str]:
        """tweet id (any part) -> content_id, from TweetPosted."""
        out: dict[str, str] = {}
        for _, p in self.of("TweetPosted"):
            for tid in p.get("tweet_ids") or []:
                out[str(tid)] = p["content_id"]
        return out

    def decisions(self) -> list[Decision]:
        """The policy's own choices for posts (replies are picked by opportunity, not by the policy's arms)."""
        return [Decision(at, p["choice"]) for at, p in self.of("ContentQueued")
                if p.get("kind", "post") != "reply" and p.get("choice")]


def items_from(tweets: Iterable[Mapping[str, Any]], log: EventLog) -> list[Item]:
    """Our posts and replies from ``/admin/tweets``; thread parts fold into their first part."""
    tweets = list(tweets)
    planned, posted = log.planned_choices(), log.posted_content()
    parts = Counter(str(t["thread_root"]) for t in tweets if t.get("thread_root"))
    items = []
    for t in tweets:
        if t.get("thread_root"):
            continue
        tid = str(t["id"])
        choice, source = planned.get(posted.get(tid, "")), "planner"
        if choice is None and t.get("choice"):
            choice, source = t["choice"], "sandbox"
        if choice is None:
            source = None
        items.append(Item(tweet_id=tid, kind=str(t.get("kind") or "post"), created_at=parse_time(t["created_at"]),
                          counts=t.get("counts") or {}, choice=choice, choice_source=source,
                          thread_parts=1 + parts.get(tid, 0)))
    return sorted(items, key=lambda i: (i.created_at, i.tweet_id))


def reward_by(items: Iterable[Item], dimension: str) -> dict[str, dict[str, float]]:
    """arm -> {"n", "mean"} of the reward of our posts with that arm."""
    groups: dict[str, list[float]] = defaultdict(list)
    for item in items:
        if item.kind == "post" and item.choice and dimension in item.choice:
            groups[str(item.choice[dimension])].append(item.reward)
    return {arm: {"n": len(rs), "mean": round(sum(rs) / len(rs), 4)}
            for arm, rs in sorted(groups.items(), key=lambda kv: _arm_key(kv[0]))}


def _arm_key(arm: str) -> tuple:
    return (0, int(arm), "") if arm.isdigit() else (1, 0, arm)


def decisions_from(items: Iterable[Item], log: EventLog) -> tuple[list[Decision], str]:
    """The policy's choices: ContentQueued events when the planner published any, else the sandbox's
    inference from our posts' texts (and the source used, for the report to say)."""
    decisions = log.decisions()
    if decisions:
        return decisions, "ContentQueued events"
    inferred = [Decision(i.created_at, i.choice) for i in items if i.kind == "post" and i.choice]
    return inferred, "sandbox-inferred choices of our posts" if inferred else "none"


def choice_shares(decisions: list[Decision], dimension: str, start: datetime, end: datetime,
                  windows: int) -> tuple[list[datetime], dict[str, list[float | None]]]:
    """Per time window (``windows`` equal slices of [start, end]): each arm's share of the decisions in it.
    A window without decisions has share None (nothing was decided, which is not a share of 0)."""
    width = (end - start) / windows
    bounds = [start + width * i for i in range(windows)]
    per_window: list[Counter] = [Counter() for _ in range(windows)]
    for d in decisions:
        if dimension not in d.choice or not (start <= d.at <= end):
            continue
        idx = min(windows - 1, int((d.at - start) / width)) if width > timedelta(0) else 0
        per_window[idx][str(d.choice[dimension])] += 1
    arms = sorted({a for c in per_window for a in c}, key=_arm_key)
    shares = {arm: [(c[arm] / sum(c.values())) if c else None for c in per_window] for arm in arms}
    return bounds, shares


def share_of_best(decisions: list[Decision], best: Mapping[str, Any]) -> dict[str, float | None]:
    """Per dimension: the share of decisions that picked the sandbox's best arm."""
    out: dict[str, float | None] = {}
    for dim in DIMENSIONS:
        picks = [d.choice[dim] for d in decisions if dim in d.choice]
        out[dim] = round(sum(1 for p in picks if str(p) == str(best.get(dim))) / len(picks), 4) if picks else None
    return out


def summarise(*, account: Mapping[str, Any], tweets: list[Mapping[str, Any]], log: EventLog,
              best: Mapping[str, Any] | None, followers_start: int | None) -> dict[str, Any]:
    """The figures of summary.json (without the run's own metadata)."""
    items = items_from(tweets, log)
    posts = [i for i in items if i.kind == "post"]
    decisions, source = decisions_from(items, log)
    rewards = [i.reward for i in posts]
    followers = int(account["followers"])
    return {
        "as_of": account["now"],
        "tweets": len(tweets),
        "posts": len(posts),
        "threads": sum(1 for i in posts if i.thread_parts > 1),
        "thread_parts": sum(1 for t in tweets if t.get("thread_root")),
        "replies": sum(1 for i in items if i.kind == "reply"),
        "followers_start": followers_start,
        "followers_end": followers,
        "followers_gained": None if followers_start is None else followers - followers_start,
        "reward_mean": round(sum(rewards) / len(rewards), 4) if rewards else None,
        "reward_by": {dim: reward_by(posts, dim) for dim in DIMENSIONS},
        "llm_spend_usd": log.llm_spend_usd(),
        "policy_version": log.policy_version(),
        "events": log.counts(),
        "choice_source": source,
        "decisions": len(decisions),
        "best_choice": dict(best["choice"]) if best else None,
        "best_expected_reward": best.get("expected_reward") if best else None,
        "share_of_best": share_of_best(decisions, best["choice"]) if best else None,
    }
