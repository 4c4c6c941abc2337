"""The account's past (docs/sandbox.md, "The account's history"): the posts a real account has already made when
it starts using xbot, planned here and made by the world (World._seed_history) before its start.

The past follows the owner's habits, not a uniform draw: two habitual UTC hours in 7..22 and two or three habitual
content types, drawn from the world's seed; topics are drawn from all of the audience's. Each post is a single
written with the sandbox's own templates and facts (sandbox/textgen.py) for its intended content type and topic,
picking a text the audience's classifier reads back as that choice (AudienceModel.infer_choice, what the world
judges a post by) and not used before. Where no unused text reads back, the world's reading is the truth.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.audience import AudienceModel, PostChoice
from sandbox.settings import HISTORY_MIN_AGE_DAYS
from sandbox.textgen import POST_LIMIT, POST_TEMPLATES, TextComposer, topic_label

HOUR = 3600.0
DAY = 24 * HOUR
HABIT_HOURS = range(7, 23)  # the owner posts by day (UTC)
ATTEMPTS = 50  # draws of a post's content type and topic before the templates are taken as used up


@dataclass(frozen=True)
class Habits:
    hours: tuple[int, ...]  # the UTC hours the owner posts at
    content_types: tuple[str, ...]  # what the owner writes; the topics are all the audience's


@dataclass(frozen=True)
class PastPost:
    text: str
    created_at: float
    intended: PostChoice  # what the owner meant; the world's truth is infer_choice of the text


def habits(seed: int, audience: AudienceModel) -> Habits:
    rng = random.Random(f"{seed}:history:habits")
    hours = tuple(sorted(rng.sample(HABIT_HOURS, 2)))
    types = tuple(rng.sample(audience.content_types, min(len(audience.content_types), rng.choice((2, 3)))))
    return Habits(hours=hours, content_types=types)


def posting_times(rng: random.Random, hours: tuple[int, ...], *, posts: int, start: float, days: float) -> list[float]:
    """``posts`` instants at the habitual hours within [start - days, start - HISTORY_MIN_AGE_DAYS], oldest first:
    each habitual hour of each day at most once while there are more such hours than posts."""
    first, last = start - days * DAY, start - HISTORY_MIN_AGE_DAYS * DAY
    slots: list[tuple[float, float]] = []
    day = math.floor(first / DAY) * DAY  # UTC midnight (Unix time has no leap seconds)
    while day < last:
        for hour in hours:
            lo, hi = max(first, day + hour * HOUR), min(last, day + (hour + 1) * HOUR)
            if lo < hi:
                slots.append((lo, hi))
        day += DAY
    taken = slots * (posts // len(slots)) + rng.sample(slots, posts % len(slots))
    return sorted(rng.uniform(lo, hi) for lo, hi in taken)


def texts_for(composer: TextComposer, content_type: str, topic: str, rng: random.Random) -> Iterator[str]:
    """Every post the templates make for a content type and topic: the topic's own facts before facts it shares,
    each fact in its richest form before the leaner ones, in an order drawn from ``rng``."""
    template = POST_TEMPLATES.get(content_type, POST_TEMPLATES["practical_tip"])
    label = topic_label(topic)
    facts = composer.facts_for(topic)
    own, shared = [f for f in facts if f.topics[0] == topic], [f for f in facts if f.topics[0] != topic]
    rng.shuffle(own)
    rng.shuffle(shared)
    for group in (own, shared):
        variants = [template(f, label) for f in group]
        for level in range(max((len(v) for v in variants), default=0)):
            yield from (v[level] for v in variants if level < len(v) and len(v[level]) <= POST_LIMIT)


def plan(seed: int, audience: AudienceModel, *, posts: int, start: float, days: float,
         composer: TextComposer | None = None) -> list[PastPost]:
    """The account's past posts, oldest first (deterministic for the seed and the start)."""
    if posts <= 0:
        return []
    composer = composer or TextComposer()
    habit = habits(seed, audience)
    rng = random.Random(f"{seed}:history")
    used: set[str] = set()
    out = []
    for at in posting_times(rng, habit.hours, posts=posts, start=start, days=days):
        hour = datetime.fromtimestamp(at, UTC).hour
        for _ in range(ATTEMPTS):
            intended = PostChoice(rng.choice(habit.content_types), rng.choice(audience.topics), "single", hour)
            text = _pick(texts_for(composer, intended.content_type, intended.topic, rng), intended, audience, used)
            if text is not None:
                break
        else:
            raise ValueError(f"the composer's templates ran out of distinct texts after {len(out)} past posts: "
                             "lower XBOT_SANDBOX_HISTORY_POSTS")
        used.add(text)
        out.append(PastPost(text=text, created_at=at, intended=intended))
    return out


def _pick(texts: Iterator[str], intended: PostChoice, audience: AudienceModel, used: set[str]) -> str | None:
    """The first unused text the audience reads as ``intended``, else the first unused one (its reading is then
    the truth), else None."""
    fallback = None
    for text in texts:
        if text in used:
            continue
        if audience.infer_choice(text, hour=intended.hour, format=intended.format) == intended:
            return text
        fallback = fallback or text
    return fallback
