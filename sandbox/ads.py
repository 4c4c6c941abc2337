"""X's promoted posts: the ad X puts among the posts of a timeline (home, search, a post's replies).

On x.com an ad is an ``article[data-testid=tweet]`` like any post, with its advertiser's name and handle, its text
and its action buttons, but the label "Ad" where a post shows its time: it has no ``time`` element and no link to
its status page around one. Public readers of x.com's DOM name both shapes seen: the only status link is the
views link ``/<handle>/status/<id>/analytics``, or there is none at all. Its cell is wrapped in
``[data-testid=placementTracking]``. Ads are not posts of the world: they answer no status page, are not in any
search's results; the reading limit counts them as posts viewed (X does not say whether it does: the stricter
reading).

Where: one ad in each batch of 20 cells of the home timeline, of a search (Top and Latest) and of a conversation's
replies, at ``AD_SLOT`` (or after the batch's last post when it is shorter); drawn from the page and the batch so a
page shows the same ad each time it is loaded. Texts are health advertisers' (the sandbox's niche), which a reader
that took them for posts would find on topic. ``XBOT_SANDBOX_ADS=false`` shows none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sandbox.audience import Engagement

# X's first ad of a batch comes after a few posts.
AD_SLOT = 3

ADVERTISERS = (
    ("sleepwell_co", "SleepWell"),
    ("vitaboost", "VitaBoost Supplements"),
    ("fitpro_app", "FitPro — Workouts"),
    ("greenbowl", "GreenBowl Meal Kits"),
    ("calmmind_app", "CalmMind"),
)
TEXTS = (
    "Struggling with sleep? Our magnesium gummies help you fall asleep faster. 30% off your first order today.",
    "Your gut health starts here. Try 14 days of VitaBoost probiotics, free shipping.",
    "Strength training made simple: 20-minute workouts built by coaches. Download FitPro free.",
    "Eat more protein without thinking about it. Chef-made meals delivered weekly, first box half price.",
    "Stress and anxiety keeping you up? Guided breathing in 5 minutes a day. Start your free trial.",
    "Hydration is the easiest habit to fix. Electrolyte packs with zero sugar, try a sample pack.",
)


@dataclass(frozen=True)
class Ad:
    """What an ad's cell shows. ``analytics_link``: whether its views link (its only status link) is there."""

    id: str
    handle: str
    name: str
    text: str
    counts: Engagement
    analytics_link: bool
    promoted: bool = True
    lang: str = "en"


def ad_for(seed: int, page: str, cursor: int) -> Ad:
    """The ad of the batch from ``cursor`` on of the timeline ``page`` (its kind and key)."""
    digest = hashlib.sha256(f"{seed}|ad|{page}|{cursor}".encode()).digest()
    pick = int.from_bytes(digest[:8], "big")
    handle, name = ADVERTISERS[pick % len(ADVERTISERS)]
    likes = 40 + pick % 900
    counts = Engagement(likes=likes, retweets=likes // 12, replies=likes // 30, views=likes * 180,
                        profile_clicks=0, negative=0, follows=0)
    # An id as X's: a snowflake-sized number no post of the world has (the world's ids encode their time).
    ad_id = str(10**18 + int.from_bytes(digest[8:15], "big"))
    return Ad(id=ad_id, handle=handle, name=name, text=TEXTS[(pick >> 8) % len(TEXTS)], counts=counts,
              analytics_link=bool(digest[15] & 1))


Cell = TypeVar("Cell")


def with_ad(posts: Sequence[Cell], *, seed: int, page: str, cursor: int, enabled: bool) -> list[Cell | Ad]:
    """A batch's cells: its posts with the batch's ad among them (none in an empty batch)."""
    cells: list[Cell | Ad] = list(posts)
    if enabled and cells:
        cells.insert(min(AD_SLOT, len(cells)), ad_for(seed, page, cursor))
    return cells
