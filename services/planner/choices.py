"""What to post next: sample a choice from the policy in force, and how many items a run should plan.

The learner publishes, per dimension, the marginal probability of each arm (ModelUpdated.propensities) and the
uniform ``floor`` its policy mixes in: with probability ``floor`` every learned dimension is drawn uniformly,
otherwise each dimension independently from its Thompson share ``(marginal - floor/K) / (1 - floor)``. The planner
draws exactly that way, so the propensity it records — the probability of the learner's action, which the
learner's off-policy evaluation divides by — is ``(1 - floor) · Π share + floor · Π 1/K`` over the action's
dimensions, the same number the learner computes for the choice. The action is the dimensions the learner
learns (content type, topic, format, hour for posts; any other dimension the model covers joins them); the
remaining dimensions (voice and hook style until the learner covers them) are drawn uniformly and are not part of
the action, so they do not enter the propensity. Before any model every dimension is uniform.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from libs.core.account import ActiveHours
from libs.policy import arm_mass, sample_choice
from libs.contracts.events import Choice
from libs.niche import NicheConfig

UNIFORM_VERSION = "uniform"
POST_DIMENSIONS = ("content_type", "topic", "format", "hour", "voice", "hook_style")
REPLY_DIMENSIONS = ("reply_style", "voice")
# The learner's action for a post. A reply's action is its style, voice and target: the planner's run draws them
# from the reply policy (services/planner/replies.plan_replies); sample_reply_choice draws style and voice alone,
# uniformly, for tools that write a reply to a given tweet (xbot draft, the benchmarks).
POST_ACTION_DIMENSIONS = ("content_type", "topic", "format", "hour")
REPLY_ACTION_DIMENSIONS = REPLY_DIMENSIONS


@dataclass(frozen=True)
class Policy:
    version: str = UNIFORM_VERSION
    propensities: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    insights: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # Probability of the learner's uniform draw over all action dimensions at once (included in propensities).
    floor: float = 0.0
    # The account's best-rewarded own posts (texts, best first): examples of the voice for the prompt.
    best_posts: tuple[str, ...] = ()
    # The reply policy (ModelUpdated.replies; empty before the first reply model): libs.policy's reply section.
    replies: Mapping[str, Any] = field(default_factory=dict)
    # The learner's engagement predictor (ModelUpdated.predictors["engagement"]): scores drafts of one slot.
    predictor: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_model(cls, model: Any) -> "Policy":
        """From a ModelUpdated (or anything with version, propensities, insights and floor)."""
        floor = float(getattr(model, "floor", 0.0) or 0.0)
        return cls(
            version=model.version,
            propensities=dict(getattr(model, "propensities", {}) or {}),
            insights=dict(getattr(model, "insights", {}) or {}),
            floor=floor if 0.0 <= floor < 1.0 else 0.0,
            best_posts=tuple(getattr(p, "text", p) for p in getattr(model, "best_posts", None) or ()),
            replies=dict(getattr(model, "replies", None) or {}),
            predictor=dict((getattr(model, "predictors", None) or {}).get("engagement") or {}),
        )


def arms(config: NicheConfig, dimension: str) -> tuple[str, ...]:
    """The configured arms of a dimension, as the strings the learner uses as keys."""
    values = {
        "content_type": config.content_types,
        "topic": config.topics,
        "format": config.formats,
        "hour": tuple(str(h) for h in config.hours),
        "voice": tuple(config.voices),
        "hook_style": config.hook_styles,
        "reply_style": tuple(config.reply_styles),
    }[dimension]
    return tuple(values)


def _normalised(weights: Mapping[str, float]) -> dict[str, float] | None:
    total = sum(weights.values())
    if total <= 0 or not math.isfinite(total):
        return None
    return {a: w / total for a, w in weights.items()}


def marginal(policy: Policy, config: NicheConfig, dimension: str) -> dict[str, float]:
    """The probability of each configured arm of a dimension, as the policy gives it.

    The model's probabilities restricted to the configured arms and renormalised (an arm dropped from the
    config can no longer be chosen); uniform when the model has nothing usable for the dimension.
    """
    configured = arms(config, dimension)
    given = policy.propensities.get(dimension) or {}
    dist = _normalised({a: max(0.0, float(given.get(a, 0.0))) for a in configured})
    return dist or {a: 1.0 / len(configured) for a in configured}


def _draw(dist: Mapping[str, float], rng: random.Random) -> str:
    names = list(dist)
    return rng.choices(names, weights=[dist[n] for n in names], k=1)[0]


def action_dimensions(policy: Policy, dimensions: Sequence[str], base: Sequence[str]) -> tuple[str, ...]:
    """The dimensions whose arms make the learner's action: ``base`` plus those the model covers."""
    return tuple(d for d in dimensions if d in base or d in policy.propensities)


def sample_choices(
    policy: Policy, config: NicheConfig, rng: random.Random, dimensions: Sequence[str],
    action: Sequence[str] | None = None,
) -> tuple[dict[str, str], float]:
    """Draw every dimension; the propensity is the probability of the arms of the ``action`` dimensions.

    The action dimensions are drawn by libs.policy, the same code the learner computes propensities with, so
    the propensity logged on ContentQueued is exactly what its off-policy evaluation assumes.
    """
    action = tuple(dimensions) if action is None else tuple(action)
    drawn, propensity = sample_choice(_payload(policy), rng, dimensions={d: arms(config, d) for d in action})
    picked = {d: str(v) for d, v in drawn.items()}
    for dim in dimensions:
        if dim not in action:
            picked[dim] = _draw(marginal(policy, config, dim), rng)
    return picked, propensity


def _payload(policy: Policy) -> dict[str, Any] | None:
    """The policy as libs.policy reads a ModelUpdated; None (uniform) before any model."""
    return {"propensities": policy.propensities, "floor": policy.floor} if policy.propensities else None


# Below this probability of the open hours and fresh topics, redrawing would take too long: the choice is drawn
# unconditioned, the poster's hourly cap delays the item and the topic gate drops it (its propensity is then the
# plain one, still exact).
MIN_OPEN_MASS = 1e-4


def sample_post_choice(
    policy: Policy, config: NicheConfig, rng: random.Random, *, open_hours: Collection[int] | None = None,
    fresh_topics: Collection[str] | None = None,
) -> tuple[Choice, float]:
    """A post's choice and propensity.

    ``open_hours`` are the hours the queue still has room in (the poster posts at most its hourly cap in an
    hour; items piled into one hour would wait past their chosen hour or expire); ``fresh_topics`` the topics not
    posted on too often lately (the topic gate drops a post on another, without a call: half the post items of a
    demo were drawn so). The choice is drawn from the policy conditioned on both, by redrawing, and the propensity
    is divided by the policy's probability of an open hour and a fresh topic: it stays the exact probability of
    what was drawn, which the learner's off-policy evaluation needs. None: every hour is open, every topic fresh.
    """
    action = action_dimensions(policy, POST_DIMENSIONS, POST_ACTION_DIMENSIONS)
    wanted = {"hour": None if open_hours is None else {str(h) for h in open_hours},
              "topic": None if fresh_topics is None else set(fresh_topics)}
    allowed = {d: subset & set(arms(config, d)) for d, subset in wanted.items()
               if subset is not None and not set(arms(config, d)) <= subset}
    mass = arm_mass(_payload(policy), {d: arms(config, d) for d in allowed}, allowed) if allowed else 1.0
    if mass < MIN_OPEN_MASS:
        allowed, mass = {}, 1.0
    while True:
        picked, propensity = sample_choices(policy, config, rng, POST_DIMENSIONS, action)
        if all(picked[d] in subset for d, subset in allowed.items()):
            break
    propensity /= mass
    choice = Choice(
        content_type=picked["content_type"],
        topic=picked["topic"],
        format=picked["format"],
        hour=int(picked["hour"]),
        voice=picked["voice"],
        hook_style=picked["hook_style"],
    )
    return choice, propensity


def draft_hooks(first: str | None, styles: Sequence[str], k: int, rng: random.Random) -> list[str | None]:
    """The hook style of each of a slot's ``k`` drafts: the slot's own first, then styles not yet used, drawn
    without replacement (drafts that differ more leave the predictor more to choose between: bench/drafts.py
    measured +6.4% per post against +5.3% with repeats allowed); past the styles there are, drawn uniformly."""
    others = [h for h in styles if h != first]
    hooks: list[str | None] = [first, *rng.sample(others, min(k - 1, len(others)))]
    hooks += [rng.choice(list(styles)) for _ in range(k - len(hooks))]
    return hooks[:k]


def sample_reply_choice(
    policy: Policy, config: NicheConfig, rng: random.Random, *, topic: str | None, hour: int
) -> tuple[Choice, float]:
    """A reply's topic and hour come from the opportunity and the clock; only style and voice are chosen."""
    picked, propensity = sample_choices(policy, config, rng, REPLY_DIMENSIONS, REPLY_ACTION_DIMENSIONS)
    choice = Choice(
        content_type="reply",
        topic=topic or "general",
        format="single",
        hour=hour,
        voice=picked["voice"],
        reply_style=picked["reply_style"],
    )
    return choice, propensity


def next_slot(hour: int, now: datetime, rng: random.Random, *, not_before: timedelta = timedelta(0)) -> datetime:
    """The next time within ``hour`` (UTC) at least ``not_before`` from now, at a random minute."""
    earliest = now + not_before
    day = earliest.replace(minute=0, second=0, microsecond=0)
    start = day.replace(hour=hour)
    if start + timedelta(hours=1) <= earliest:
        start += timedelta(days=1)
    lo = max(start, earliest)
    span = (start + timedelta(hours=1) - lo).total_seconds()
    return lo + timedelta(seconds=rng.uniform(0, max(0.0, span - 1)))


# ---------------------------------------------------------------- how many items a run plans

HOURS_A_DAY = 24


@dataclass(frozen=True)
class PosterCaps:
    posts_per_hour: int
    posts_per_day: int
    replies_per_hour: int
    replies_per_day: int


@dataclass(frozen=True)
class QueueDepth:
    """From the planner's projection: queued and not yet posted or failed; and posted since midnight UTC."""

    pending_posts: int = 0
    pending_replies: int = 0
    posted_posts_today: int = 0
    posted_replies_today: int = 0
    # Pending posts per UTC hour of their scheduled time.
    queued_by_hour: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanQuota:
    posts: int
    replies: int

    @property
    def total(self) -> int:
        return self.posts + self.replies


def plan_quota(caps: PosterCaps, depth: QueueDepth, *, horizon_hours: float,
               hours_a_day: int = HOURS_A_DAY) -> PlanQuota:
    """Items to plan now so the poster always has work, without exceeding its daily caps.

    Posts: a day's worth, since each post's hour is drawn over the whole day (queueing only ``horizon_hours`` of
    posts left the poster idle: the few queued items sat hours ahead); a day has ``hours_a_day`` posting hours
    (the account's active hours among the hour arms). Replies are written for now, so
    ``horizon_hours`` of them. Never negative; a full queue or a spent day plans nothing.
    """

    def one(wanted: int, per_day: int, pending: int, done_today: int) -> int:
        room_today = per_day - done_today - pending
        return max(0, min(wanted - pending, room_today))

    return PlanQuota(
        posts=one(min(caps.posts_per_hour * hours_a_day, caps.posts_per_day), caps.posts_per_day,
                  depth.pending_posts, depth.posted_posts_today),
        replies=one(math.ceil(caps.replies_per_hour * horizon_hours), caps.replies_per_day,
                    depth.pending_replies, depth.posted_replies_today),
    )


def hour_arms(config: NicheConfig, active: ActiveHours | None, now: datetime) -> NicheConfig:
    """The niche with its hour arms limited to the account's active hours (as UTC hours of ``now``'s day).

    The learner's policy is then drawn over these arms only, its shares renormalised (libs.policy), so the
    propensity stays the exact probability of the draw and no post is ever planned for a closed hour: the poster
    would hold it to the morning, past the hour the learner is learning about."""
    if active is None:
        return config
    open_now = set(active.utc_hours(now.date()))
    return config.model_copy(update={"hours": tuple(h for h in config.hours if h in open_now)})


def open_hours(hours: Sequence[int], queued_by_hour: Mapping[int, int], posts_per_hour: int) -> list[int]:
    """The hours whose posting slots (the poster's hourly cap) are not all taken by queued posts."""
    return [h for h in hours if queued_by_hour.get(h, 0) < posts_per_hour]

