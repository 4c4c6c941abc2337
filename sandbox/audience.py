"""The sandbox's simulated audience: hidden ground truth for how X reacts to a post.

Pure Python (plus numpy for whole-table helpers), no I/O, deterministic for a seed. The world uses it to turn
posts into engagement counts; benchmarks use it in-process as the ground truth of the learning problem.

Model (all effects additive on the log scale of reach):

    log views = log(30 + 0.25 * followers)               reach from followers, plus a little discovery
              + effect[content_type] + effect[topic]     hidden affinities drawn from the seed
              + effect[format] + effect[hour]            the hour effect is a smooth daily curve with one peak
              + QUALITY_SLOPE * (quality - 0.6)          hook, length, readability of the text
              + log(1 - reach_penalty)                   near-duplicates and spam lose reach
              + SIGMA * z,  z ~ N(0, 1)                  lognormal noise: learning needs dozens to hundreds of posts

Each count is Poisson(views * rate) with fixed per-view rates (likes > bookmarks > retweets, views >> likes);
negative feedback is rare but weighs -74 and grows as text quality drops. Follows have effects of their own
(issue 24): a viewer's chance to follow is 0.04 % × (0.5 + quality) × exp(follow effect of the choice), the follow
effects being additive over content type, topic, format and hour like the reach effects but drawn independently
(``random.Random("follows:<seed>")``) and normalised so that uniform choices follow at 0.04 % on average. A story
on sleep may draw less engagement than a myth on nutrition yet bring more followers: followers and engagement rank
the choices differently, so which of the two the learner optimises matters. The reward of a post is
``log(1 + max(0, weighted))`` with X's heavy-ranker weights.

``reward_sample`` and ``expected_reward`` use the expected counts given the latent reach
(``weighted = views * weight_per_view``), so the learning problem is exactly a lognormal one and its expectation
is computed by Gauss-Hermite quadrature. ``sample_engagement`` adds Poisson count noise on top; its mean reward
ordering follows the same hidden affinities.
"""

from __future__ import annotations

import math
import random
import re
import zlib
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from libs.formats import BASELINE_HOURS, FEATURES as FORMAT_FEATURES, HOUR_BUCKETS, format_features

HEAVY_RANKER_WEIGHTS: dict[str, float] = {
    "like": 0.5,
    "retweet": 1.0,
    "reply": 13.5,
    "profile_click": 12.0,
    "negative": -74.0,
}
DEFAULT_CONTENT_TYPES = (
    "myth_busting",
    "framework",
    "research_breakdown",
    "practical_tip",
    "story",
    "contrarian_take",
    "data_insight",
    "question",
)
DEFAULT_TOPICS = (
    "sleep",
    "nutrition",
    "exercise",
    "stress",
    "gut_health",
    "longevity",
    "mental_health",
    "hydration",
    "metabolic_health",
    "heart_health",
)
FORMATS = ("single", "thread")
HOURS = tuple(range(24))

SIGMA = 0.65  # sd of the lognormal reach noise of our own posts
REPLY_SIGMA = 0.75  # replies ride on someone else's tweet: noisier
QUALITY_SLOPE = 1.2  # log-reach per unit of text quality
REFERENCE_QUALITY = 0.6
# Format effects on the population's posts are drawn in [-range, range] (log engagement): a list or a question
# can lift a post by half again or cost it a third, as the creator playbooks claim, not tenfold.
FORMAT_EFFECT_RANGE = 0.45

# Per-view rates of our own posts. Negative feedback grows as quality drops (see _rates).
_POST_RATES = {
    "like": 0.025,
    "retweet": 0.005,
    "reply": 0.0015,
    "profile_click": 0.002,
    "bookmark": 0.004,
    "follow": 0.0004,
}
_NEGATIVE_BASE_RATE = 0.00008
# Spreads of the follow effects (log of the per-view follow rate): content type and topic matter most (an account
# is followed for what it is about and how it speaks), format and hour less.
FOLLOW_TYPE_SD = 0.45
FOLLOW_TOPIC_SD = 0.40
FOLLOW_FORMAT_GAP = (0.1, 0.4)
FOLLOW_HOUR_AMPLITUDE = (0.1, 0.3)

# Replies (issue 24): spreads of the hidden effects of a reply's style and voice on its reach (log views) and on
# the follow conversion of its profile visits, and how much the target's relevance moves that conversion.
REPLY_STYLE_SD = 0.35
REPLY_STYLE_FOLLOW_SD = 0.30
REPLY_VOICE_SD = 0.15
REPLY_VOICE_FOLLOW_SD = 0.15
REPLY_RELEVANCE_SLOPE = 1.0

# Maturity anchors (age in hours, share of final counts visible); linear up to 1 h, linear in log-age beyond.
_MATURITY_POINTS = (
    (1.0, 0.25),
    (2.0, 0.40),
    (6.0, 0.60),
    (12.0, 0.75),
    (24.0, 0.88),
    (48.0, 0.97),
    (96.0, 0.995),
    (168.0, 1.0),
)
_MATURITY_LOG_AGES = tuple(math.log(a) for a, _ in _MATURITY_POINTS)

# Gauss-Hermite (probabilists') nodes for E[f(Z)], Z ~ N(0,1): exact enough for a smooth f, no sampling noise.
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(48)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()
_FLOOR_SUM_UP_TO = 50.0  # floored_follows_table sums the Poisson count up to this mean


_GOLDEN = (math.sqrt(5) - 1) / 2  # spreads the count offsets of Engagement.at_age evenly over [0, 1)
_COUNT_FIELDS = ("likes", "retweets", "replies", "profile_clicks", "negative", "follows", "bookmarks")


def maturity(age_hours: float) -> float:
    """Share of a post's final engagement visible at ``age_hours`` (0 at birth, 1 from seven days on)."""
    if age_hours <= 0:
        return 0.0
    first_age, first_share = _MATURITY_POINTS[0]
    if age_hours <= first_age:
        return first_share * age_hours / first_age
    if age_hours >= _MATURITY_POINTS[-1][0]:
        return 1.0
    log_age = math.log(age_hours)
    # An age a hair under the last point may round to its log: stay within the last segment.
    i = min(bisect_right(_MATURITY_LOG_AGES, log_age), len(_MATURITY_POINTS) - 1)
    (_, m0), (_, m1) = _MATURITY_POINTS[i - 1], _MATURITY_POINTS[i]
    la0, la1 = _MATURITY_LOG_AGES[i - 1], _MATURITY_LOG_AGES[i]
    return m0 + (m1 - m0) * (log_age - la0) / (la1 - la0)


@dataclass(frozen=True)
class PostChoice:
    content_type: str
    topic: str
    format: str
    hour: int


@dataclass(frozen=True)
class Engagement:
    likes: int
    retweets: int
    replies: int
    views: int
    profile_clicks: int
    negative: int
    follows: int
    bookmarks: int = 0

    def at_age(self, age_hours: float) -> "Engagement":
        """Counts visible at ``age_hours``, monotone in age and at their final values from seven days on. Each
        count's events arrive evenly over the post's engagement curve from an offset of the post's own (a share
        u of one event, 0 <= u < 1): at maturity m, floor(m·n + u) of n have arrived. So a single follow or report
        shows when its post reached a share 1 - u of its engagement, as a counter shows an event when it happens,
        and a count at an age is its final count's share on average. (Scaling and flooring hid every count of
        one, most of a post's follows, until the seventh day, from the post's analytics and from the account's
        follower count.)"""
        m = maturity(age_hours)

        def arrived(field: str) -> int:
            n = getattr(self, field)
            return min(n, math.floor(m * n + self.offset(field))) if m < 1.0 else n

        return Engagement(
            likes=arrived("likes"), retweets=arrived("retweets"), replies=arrived("replies"),
            views=math.floor(self.views * m), profile_clicks=arrived("profile_clicks"),
            negative=arrived("negative"), follows=arrived("follows"), bookmarks=arrived("bookmarks"),
        )

    def offset(self, field: str) -> float:
        """Where a count's events start on the post's engagement curve, as a share u of one event (0 <= u < 1): a
        golden-ratio hash of the post's final views, another for each kind of count (at_age)."""
        return ((self.views + 1) * (_COUNT_FIELDS.index(field) + 1) * _GOLDEN) % 1.0

    def arrival_share(self, field: str, k: int) -> float:
        """The share of the post's engagement (maturity) at which the k-th event of a count shows (at_age)."""
        return max(0.0, (k - self.offset(field)) / getattr(self, field))

    def weighted(self, weights: dict[str, float] = HEAVY_RANKER_WEIGHTS) -> float:
        return (
            weights.get("like", 0.0) * self.likes
            + weights.get("retweet", 0.0) * self.retweets
            + weights.get("reply", 0.0) * self.replies
            + weights.get("profile_click", 0.0) * self.profile_clicks
            + weights.get("negative", 0.0) * self.negative
        )

    def log_reward(self, weights: dict[str, float] = HEAVY_RANKER_WEIGHTS) -> float:
        """The learner's reward: log(1 + weighted), the weighted sum clipped at 0 first."""
        return math.log1p(max(0.0, self.weighted(weights)))


@dataclass(frozen=True)
class ReachShape:
    """How the hidden reach of our posts is drawn. The world uses the defaults; the learner benchmark varies them
    to ask whether what it learned holds on audiences it was not tuned on (docs/sandbox.md, "Audience settings")."""

    effect_scale: float = 1.0  # multiplies every reach effect (content type, topic, format, hour)
    sigma: float = SIGMA  # sd of the lognormal reach noise
    interaction_sd: float = 0.0  # content type × topic effects beyond the additive ones (rows and columns centred)
    second_peak: tuple[float, float] = (0.05, 0.15)  # amplitude range of the hour curve's second daily harmonic
    breakout_share: float = 0.0  # share of posts that break out (a heavy right tail of reach)...
    breakout_lift: float = 0.0  # ...and their extra log reach

    def noise_nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """Quadrature nodes and weights of the reach noise (normal, or normal mixed with the breakout)."""
        nodes = self.sigma * _GH_NODES
        if self.breakout_share <= 0:
            return nodes, _GH_WEIGHTS
        return (np.concatenate([nodes, nodes + self.breakout_lift]),
                np.concatenate([(1 - self.breakout_share) * _GH_WEIGHTS, self.breakout_share * _GH_WEIGHTS]))

    def log_mean_exp_noise(self) -> float:
        """log E[exp(noise)]: the noise's share of log E[views]."""
        return self.sigma ** 2 / 2.0 + math.log1p(self.breakout_share * math.expm1(self.breakout_lift))

    def draw_noise(self, rng: random.Random) -> float:
        """One draw of the reach noise; the breakout coin is drawn only when there is one, so the default
        audience's streams stay what they were."""
        z = rng.gauss(0.0, self.sigma)
        if self.breakout_share > 0 and rng.random() < self.breakout_share:
            z += self.breakout_lift
        return z


DEFAULT_SHAPE = ReachShape()


def _negative_rate(quality: float) -> float:
    return _NEGATIVE_BASE_RATE * (1.0 + 2.0 * (1.0 - min(1.0, max(0.0, quality))))


@lru_cache(maxsize=256)
def weight_per_view(quality: float) -> float:
    """Expected heavy-ranker weighted engagement per view of one of our posts (always > 0)."""
    w = HEAVY_RANKER_WEIGHTS
    value = (
        w["like"] * _POST_RATES["like"]
        + w["retweet"] * _POST_RATES["retweet"]
        + w["reply"] * _POST_RATES["reply"]
        + w["profile_click"] * _POST_RATES["profile_click"]
        + w["negative"] * _negative_rate(quality)
    )
    return max(value, 1e-4)


def _reach_log(followers: int) -> float:
    return math.log(30.0 + 0.25 * max(0, followers))


def poisson(lam: float, rng: random.Random) -> int:
    """A Poisson draw from ``rng`` (Knuth for small means, a rounded normal for large ones: fast and close)."""
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


# Keyword lexicons of the classifier; lowercase stems matched as word prefixes.
_TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "sleep": ("sleep", "insomnia", "melatonin", "circadian", "nap", "bedtime", "bedroom", "rem ", "drowsy", "slept"),
    "nutrition": ("nutrition", "protein", "fiber", "fibre", "vegetable", "fruit", "diet", "nutrient", "calori",
                  "whole grain", "ultra-processed", "ultraprocessed",
                  "sugar", "legume", "vitamin", "meal", "salt", "sodium"),
    "exercise": ("exercise", "workout", "strength", "muscle", "cardio", "walking", "walk", "steps", "aerobic",
                 "resistance training", "physical activity", "vo2", "squat", "lift", "gym", "run"),
    "stress": ("stress", "cortisol", "breath", "breathing", "relax", "burnout", "calm", "tension", "overwhelm"),
    "gut_health": ("gut", "microbio", "probiotic", "prebiotic", "ferment", "digest", "bowel", "yogurt", "kefir"),
    "longevity": ("longevity", "lifespan", "live longer", "aging", "ageing", "mortality", "healthspan",
                  "blue zone", "die early", "premature death"),
    "mental_health": ("mental health", "depress", "anxiety", "mood", "loneli", "therapy", "social connection",
                      "wellbeing", "well-being", "mindful"),
    "hydration": ("hydrat", "water", "dehydrat", "thirst", "fluid", "electrolyte", "urine"),
    "metabolic_health": ("metabolic", "insulin", "glucose", "blood sugar", "diabetes", "prediabetes", "waist",
                         "visceral", "triglycer", "a1c"),
    "heart_health": ("heart", "cardiovascular", "blood pressure", "hypertension", "cholesterol", "ldl", "stroke",
                     "artery", "arteries", "resting heart rate"),
}
_TYPE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "myth_busting": ("myth", "misconception", "not true", "isn't true", "is false", "debunk", "contrary to popular",
                     "you've been told", "actually not"),
    "framework": ("framework", "step 1", "1)", "rule of", "the formula", "system:", "protocol", "pillars",
                  "checklist", "blueprint"),
    "research_breakdown": ("study", "studies", "researchers", "meta-analysis", "trial", "published", "cohort",
                           "systematic review", "participants", "journal"),
    "practical_tip": ("tip", "try this", "simple", "today:", "quick win", "why it works", "easy way", "start by",
                      "do this", "small change", "habit"),
    "story": ("i used to", "years ago", "my dad", "my mom", "a friend", "i remember", "last year", "when i was",
              "my client", "true story", "the hard way", "what i changed"),
    "contrarian_take": ("unpopular opinion", "overrated", "hot take", "everyone says", "stop obsessing",
                        "nobody wants to hear", "controversial", "underrated"),
    "data_insight": ("by the numbers", "%", "percent", " in ", "x more", "times more", "per day", "data", "number",
                     "statistic", "out of"),
    "question": ("?", "what's your", "what is your", "would you", "do you", "how do you", "curious"),
}
TOPIC_KEYWORDS = _TOPIC_KEYWORDS  # the composer reuses the classifier's lexicon to stay on-topic
# Weak, very common cues weigh less than specific ones.
_WEAK_TYPE_CUES = {" in ", "?", "per day", "number", "simple", "habit", "tip", "data", "out of", "1)"}


def _split_name(name: str) -> tuple[str, ...]:
    return tuple(part for part in name.lower().split("_") if len(part) > 2)


class AudienceModel:
    def __init__(
        self,
        seed: int,
        *,
        content_types: tuple[str, ...] = DEFAULT_CONTENT_TYPES,
        topics: tuple[str, ...] = DEFAULT_TOPICS,
        follow_spread: float = 1.0,
        follow_seed: int | None = None,
        reach_seed: int | None = None,
        shape: ReachShape = DEFAULT_SHAPE,
        follows_through_visits: bool = False,
    ) -> None:
        """``follow_spread`` scales every follow effect (0: follows track reach only, as before issue 24);
        ``follow_seed`` draws the follow effects from another seed than the reach effects (benchmarks use it to
        change what brings followers while what brings reach stays); ``reach_seed`` draws the reach effects from
        another seed (what brings engagement changes); ``shape`` how they are drawn (ReachShape).

        ``follows_through_visits``: a choice's follow effect moves how often its viewers visit the profile (the
        analytics' "Profile visits"), and a visitor follows at a rate set by the text's quality, as most follows on
        X start from a visit. The expected follows of every choice are the same as without it; the visits, which
        the heavy ranker weighs, now carry the effect, five times as many events as the follows. Off (the
        default, the world's): the effect moves the follow rate itself and visits are a fixed share of views.
        Only the followers benchmark turns it on so far (bench/learner.py, VISITS_MODEL)."""
        self.seed = seed
        self.follows_through_visits = follows_through_visits
        self.reach_seed = seed if reach_seed is None else reach_seed
        self.shape = shape
        self.content_types = tuple(content_types)
        self.topics = tuple(topics)
        self.formats = FORMATS
        self.hours = HOURS
        rng = random.Random(f"audience:{self.reach_seed}")
        scale = shape.effect_scale
        self._type_effect = tuple(scale * e for e in _spread_effects(rng, len(self.content_types), sd=0.35))
        self._topic_effect = tuple(scale * e for e in _spread_effects(rng, len(self.topics), sd=0.30))
        gap = scale * rng.uniform(0.2, 0.5) * rng.choice((-1.0, 1.0))  # thread minus single
        self._format_effect = (-gap / 2.0, gap / 2.0)
        self.peak_hour = rng.uniform(7.0, 21.0)
        amplitude = scale * rng.uniform(0.4, 0.65)
        second_phase, second_amp = rng.uniform(0.0, 24.0), scale * rng.uniform(*shape.second_peak)
        hour_curve = [
            amplitude * math.cos(2 * math.pi * (h - self.peak_hour) / 24.0)
            + second_amp * math.cos(4 * math.pi * (h - second_phase) / 24.0)
            for h in HOURS
        ]
        mean_hour = sum(hour_curve) / 24.0
        self._hour_effect = tuple(v - mean_hour for v in hour_curve)
        self._type_index = {name: i for i, name in enumerate(self.content_types)}
        self._topic_index = {name: i for i, name in enumerate(self.topics)}
        self._format_index = {name: i for i, name in enumerate(FORMATS)}
        # Hidden effect of every choice, precomputed so the benchmark's fast path is a dict lookup.
        self._effect_table = (
            np.asarray(self._type_effect)[:, None, None, None]
            + np.asarray(self._topic_effect)[None, :, None, None]
            + np.asarray(self._format_effect)[None, None, :, None]
            + np.asarray(self._hour_effect)[None, None, None, :]
        )
        if shape.interaction_sd > 0:  # its own stream: the main effects above stay what they were
            pair = np.random.default_rng([self.reach_seed, 77]).normal(
                0.0, shape.interaction_sd, (len(self.content_types), len(self.topics)))
            pair = pair - pair.mean(axis=0) - pair.mean(axis=1, keepdims=True) + pair.mean()
            self._effect_table = self._effect_table + pair[:, :, None, None]
        self.follow_spread = follow_spread
        self._follow_effect_table = self._draw_follow_effects(seed if follow_seed is None else follow_seed,
                                                              follow_spread)
        self._follow_log_mult: dict[PostChoice, float] = {}
        self._effect_by_choice: dict[PostChoice, float] = {}
        self._expected_cache: dict[tuple[PostChoice, int, float], float] = {}
        self._format_effects_cache: dict[str, float] | None = None
        self._type_lexicon = {
            t: _TYPE_KEYWORDS.get(t, _split_name(t)) for t in self.content_types
        }
        self._topic_lexicon = {t: _TOPIC_KEYWORDS.get(t, _split_name(t)) for t in self.topics}

    def _draw_follow_effects(self, seed: int, spread: float) -> np.ndarray:
        """log multiplier of the per-view follow rate for every choice, shape (types, topics, formats, 24), centred
        so that the mean multiplier over all choices is 1 (uniform choices follow at the base rate)."""
        rng = random.Random(f"follows:{seed}")
        types = _spread_effects(rng, len(self.content_types), sd=FOLLOW_TYPE_SD)
        topics = _spread_effects(rng, len(self.topics), sd=FOLLOW_TOPIC_SD)
        gap = rng.uniform(*FOLLOW_FORMAT_GAP) * rng.choice((-1.0, 1.0))
        peak, amplitude = rng.uniform(0.0, 24.0), rng.uniform(*FOLLOW_HOUR_AMPLITUDE)
        hours = [amplitude * math.cos(2 * math.pi * (h - peak) / 24.0) for h in HOURS]
        table = spread * (
            np.asarray(types)[:, None, None, None]
            + np.asarray(topics)[None, :, None, None]
            + np.asarray((-gap / 2.0, gap / 2.0))[None, None, :, None]
            + (np.asarray(hours) - np.mean(hours))[None, None, None, :]
        )
        return table - math.log(float(np.mean(np.exp(table))))

    # ---- ground truth -------------------------------------------------------------------------------------------

    def format_effects(self) -> dict[str, float]:
        """format feature (libs.formats) -> hidden effect on the log engagement of the population's posts.

        The hour features are the audience's own daily curve averaged over each bucket (against the baseline
        bucket), so peers and the account share one audience clock; the others are drawn from the reach seed (a
        change of what brings reach changes them too), on their own random stream so the affinities above do not
        move."""
        rng = random.Random(f"formats:{self.reach_seed}")
        effects = {name: round(rng.uniform(-FORMAT_EFFECT_RANGE, FORMAT_EFFECT_RANGE), 3)
                   for name in FORMAT_FEATURES if not name.startswith("hours=")}

        def bucket_mean(start: int, end: int) -> float:
            return sum(self._hour_effect[start:end]) / (end - start)

        base = bucket_mean(*BASELINE_HOURS)
        for start, end in HOUR_BUCKETS:
            if (start, end) != BASELINE_HOURS:
                effects[f"hours={start}-{end}"] = round(bucket_mean(start, end) - base, 3)
        return effects

    def own_format_lift(self, text: str) -> float:
        """What the hidden format effects (format_effects: they move the population's posts as well) add to the
        log reach of one of *our* posts: its hook, length, lines, numbers, question and list features. The hour and
        thread features are left out (the choice's own hour and format effects already carry them). The world
        applies it to every post of ours (World._sample_post; sample_engagement's ``format_lift``), so how a post
        is written moves its reach as it moves the peers' and choosing among drafts can pay (issue 24, item 3)."""
        effects = self._format_effects_cache
        if effects is None:
            effects = self._format_effects_cache = self.format_effects()
        values = format_features(text, hour=BASELINE_HOURS[0])
        return float(sum(effects.get(k, 0.0) * v for k, v in values.items()
                         if not k.startswith("hours=") and k != "thread"))

    def true_affinities(self) -> dict[str, dict[str, float]]:
        """dimension -> arm -> hidden additive effect on log reach (hours keyed as strings "0".."23")."""
        return {
            "content_type": dict(zip(self.content_types, self._type_effect)),
            "topic": dict(zip(self.topics, self._topic_effect)),
            "format": dict(zip(FORMATS, self._format_effect)),
            "hour": {str(h): v for h, v in zip(HOURS, self._hour_effect)},
        }

    def true_follow_affinities(self) -> dict[str, dict[str, float]]:
        """dimension -> arm -> hidden additive effect on the log per-view follow rate (centred per dimension; the
        table's normalising constant is left out)."""
        t = self._follow_effect_table
        centred = t - t.mean()
        means = [centred.mean(axis=tuple(a for a in range(4) if a != d)) for d in range(4)]
        return {
            "content_type": dict(zip(self.content_types, map(float, means[0]))),
            "topic": dict(zip(self.topics, map(float, means[1]))),
            "format": dict(zip(FORMATS, map(float, means[2]))),
            "hour": {str(h): float(v) for h, v in zip(HOURS, means[3])},
        }

    def follow_multiplier(self, choice: PostChoice) -> float:
        """How much more (or less) likely than the base rate a viewer of this choice is to follow."""
        value = self._follow_log_mult.get(choice)
        if value is None:
            value = float(self._follow_effect_table[self.index_of(choice)])
            self._follow_log_mult[choice] = value
        return math.exp(value)

    def _log_views_table(self, followers: int, quality: float) -> np.ndarray:
        """log views at maturity for every choice with the reach noise at 0 (before its mean or its nodes)."""
        return self._effect_table + _reach_log(followers) + QUALITY_SLOPE * (quality - REFERENCE_QUALITY)

    def mean_follows_table(self, *, followers: int = 1000, quality: float = REFERENCE_QUALITY) -> np.ndarray:
        """Expected follows at maturity for every choice, shape (types, topics, formats, 24): E[views] × rate."""
        log_views = self._log_views_table(followers, quality) + self.shape.log_mean_exp_noise()
        return np.exp(log_views + self._follow_effect_table) * _POST_RATES["follow"] * (0.5 + quality)

    def floored_follows_table(self, *, followers: int, quality: float, reach_penalty: float,
                              share: float, format_lift: float = 0.0) -> np.ndarray:
        """E[floor(share × follows)] for every choice, shape (types, topics, formats, 24): what a world that keeps
        ``share`` of a post's counts, floored (a thread's later part, world.scaled), gets in follows. The follows
        are Poisson given the lognormal reach, so the expectation is summed over the count and integrated over the
        reach noise by quadrature (for the small counts of a part the floor takes most of them: share × the mean
        would overstate it many times)."""
        log_views = (self._log_views_table(followers, quality) + math.log(max(1e-3, 1.0 - reach_penalty))
                     + format_lift)
        nodes, weights = self.shape.noise_nodes()
        lam = (np.exp(log_views + self._follow_effect_table)[..., None] * np.exp(nodes)
               * _POST_RATES["follow"] * (0.5 + quality))
        # Past a mean of 50 the count spreads over many residues: floor(share × k) is share × k less its mean
        # fractional part, (1 - 1/q) / 2 for share = p/q (0.45 for 0.3); below, the sum over the count.
        small = np.minimum(lam, _FLOOR_SUM_UP_TO)
        pmf = np.exp(-small)  # P(follows = k), from k = 0 on
        total = np.zeros_like(lam)
        top = float(small.max())
        for k in range(1, int(top + 12 * math.sqrt(top) + 30)):
            pmf = pmf * small / k
            total += pmf * math.floor(share * k + 1e-9)
        denominator = Fraction(share).limit_denominator(1000).denominator
        large = share * lam - (1.0 - 1.0 / denominator) / 2.0
        return np.where(lam > _FLOOR_SUM_UP_TO, large, total) @ weights

    def expected_follows(self, choice: PostChoice, *, followers: int = 1000, quality: float = 0.6) -> float:
        """E[follows at maturity] of one choice (lognormal mean of views × the choice's follow rate)."""
        log_views = (self.effect(choice) + _reach_log(followers) + QUALITY_SLOPE * (quality - REFERENCE_QUALITY)
                     + self.shape.log_mean_exp_noise())
        return math.exp(log_views) * self.follow_multiplier(choice) * _POST_RATES["follow"] * (0.5 + quality)

    def best_follower_choice(self, *, followers: int = 1000) -> PostChoice:
        table = self.mean_follows_table(followers=followers)
        return self.choice_at(np.unravel_index(int(np.argmax(table)), table.shape))

    def effect(self, choice: PostChoice) -> float:
        """Sum of the hidden effects of one choice (log-reach units)."""
        value = self._effect_by_choice.get(choice)
        if value is None:
            value = float(self._effect_table[self.index_of(choice)])
            self._effect_by_choice[choice] = value
        return value

    def index_of(self, choice: PostChoice) -> tuple[int, int, int, int]:
        """Position of a choice in the [type, topic, format, hour] tables (KeyError for an unknown arm)."""
        if not 0 <= choice.hour < 24:
            raise KeyError(f"hour out of range: {choice.hour}")
        return (
            self._type_index[choice.content_type],
            self._topic_index[choice.topic],
            self._format_index[choice.format],
            choice.hour,
        )

    def choice_at(self, index: tuple[int, int, int, int]) -> PostChoice:
        t, p, f, h = index
        return PostChoice(self.content_types[t], self.topics[p], FORMATS[f], HOURS[h])

    def log_reach_offset(self, *, followers: int, quality: float) -> float:
        """Choice-independent part of the latent: log of expected weighted engagement at zero effects."""
        return (
            _reach_log(followers)
            + QUALITY_SLOPE * (quality - REFERENCE_QUALITY)
            + math.log(weight_per_view(quality))
        )

    def mean_log_reward_table(self, *, followers: int = 1000, quality: float = REFERENCE_QUALITY) -> np.ndarray:
        """E[log(1 + weighted)] for every choice, shape (types, topics, formats, 24), by Gauss-Hermite quadrature."""
        mu = self._effect_table + self.log_reach_offset(followers=followers, quality=quality)
        if self.follows_through_visits:
            mu = mu + self._visits_lift_table(quality)
        nodes, weights = self.shape.noise_nodes()
        latent = mu[..., None] + nodes
        return np.log1p(np.exp(latent)) @ weights

    def expected_reward(self, choice: PostChoice, *, followers: int = 1000, quality: float = 0.6) -> float:
        """E[log(1 + weighted engagement at maturity)] of one choice, exact up to quadrature error, cached."""
        key = (choice, followers, quality)
        cached = self._expected_cache.get(key)
        if cached is None:
            mu = self.effect(choice) + self.log_reach_offset(followers=followers, quality=quality)
            if self.follows_through_visits:
                mu += float(self._visits_lift_table(quality)[self.index_of(choice)])
            nodes, weights = self.shape.noise_nodes()
            cached = float(np.log1p(np.exp(mu + nodes)) @ weights)
            self._expected_cache[key] = cached
        return cached

    def _visits_lift_table(self, quality: float) -> np.ndarray:
        """What the profile visits' follow effect adds to the log of the weighted engagement per view of every
        choice when follows go through visits (the heavy ranker weighs a visit 12)."""
        visits = HEAVY_RANKER_WEIGHTS["profile_click"] * _POST_RATES["profile_click"]
        per_view = weight_per_view(quality)
        return np.log((per_view + visits * (np.exp(self._follow_effect_table) - 1.0)) / per_view)

    def best_choice(self, *, followers: int = 1000) -> PostChoice:
        # The expected reward is increasing in the summed effect, so the argmax does not depend on followers.
        table = self.mean_log_reward_table(followers=followers)
        return self.choice_at(np.unravel_index(int(np.argmax(table)), table.shape))

    def reward_sample(
        self, choice: PostChoice, rng: random.Random, *, followers: int = 1000, quality: float = 0.6
    ) -> float:
        """One sampled log(1 + weighted) at maturity: the benchmarks' fast path (a few microseconds)."""
        latent = self.effect(choice) + _offset(followers, quality) + self.shape.draw_noise(rng)
        return math.log1p(math.exp(latent)) if latent < 700 else latent

    def sample_log_rewards(
        self,
        indices: np.ndarray,
        rng: np.random.Generator,
        *,
        followers: int = 1000,
        quality: float = REFERENCE_QUALITY,
    ) -> np.ndarray:
        """Vectorised reward_sample: ``indices`` is an int array of shape (n, 4) of [type, topic, format, hour]."""
        idx = np.asarray(indices)
        mu = self._effect_table[idx[:, 0], idx[:, 1], idx[:, 2], idx[:, 3]]
        noise = rng.normal(0.0, self.shape.sigma, len(idx))
        if self.shape.breakout_share > 0:
            noise += self.shape.breakout_lift * (rng.random(len(idx)) < self.shape.breakout_share)
        latent = mu + self.log_reach_offset(followers=followers, quality=quality) + noise
        return np.logaddexp(0.0, latent)

    # ---- what the world sees: text ------------------------------------------------------------------------------

    def infer_choice(self, text: str, *, hour: int, format: str) -> PostChoice:
        """Classify content type and topic from keywords; the world never sees the planner's intent, only text."""
        lowered = " " + text.lower() + " "
        topic = _best_label(lowered, self._topic_lexicon, self.topics, text)
        content_type = _best_label(lowered, self._type_lexicon, self.content_types, text, weak=_WEAK_TYPE_CUES)
        if format not in FORMATS:
            raise ValueError(f"unknown format {format!r}")
        return PostChoice(content_type, topic, format, int(hour) % 24)

    def text_quality(self, text: str) -> float:
        """0..1 from the hook (first line), the length and the readability of the text."""
        return text_quality(text)

    # ---- sampled engagement -------------------------------------------------------------------------------------

    def sample_engagement(
        self,
        choice: PostChoice,
        *,
        text: str,
        followers: int,
        rng: random.Random,
        reach_penalty: float = 0.0,
        format_lift: float = 0.0,
    ) -> Engagement:
        """Final (matured) counts of one of our posts. ``reach_penalty`` in [0, 1) is the share of reach lost
        (near-duplicates, spam). ``format_lift``: extra log reach of the text's format (own_format_lift, which the
        world passes); 0 = formats move the post only through its text quality (the benchmarks' fixed text)."""
        quality = self.text_quality(text)
        latent_views = (
            format_lift +
            _reach_log(followers)
            + self.effect(choice)
            + QUALITY_SLOPE * (quality - REFERENCE_QUALITY)
            + math.log(max(1e-3, 1.0 - reach_penalty))
            + self.shape.draw_noise(rng)
        )
        views = max(1, round(math.exp(min(latent_views, 30.0))))
        likes = poisson(views * _POST_RATES["like"], rng)
        retweets = poisson(views * _POST_RATES["retweet"], rng)
        replies = poisson(views * _POST_RATES["reply"], rng)
        visits_mean = views * _POST_RATES["profile_click"]
        follows_mean = views * _POST_RATES["follow"] * (0.5 + quality)
        visits = poisson(visits_mean, rng)
        negative = poisson(views * _negative_rate(quality), rng)
        if self.follows_through_visits:
            visits = self._with_follow_effect(choice, visits, visits_mean, rng)
            converts = random.Random(hash(rng.getstate()[1]) + 1)
            follows = sum(1 for _ in range(visits) if converts.random() < follows_mean / visits_mean)
        else:
            follows = self._with_follow_effect(choice, poisson(follows_mean, rng), follows_mean, rng)
        return Engagement(likes=likes, retweets=retweets, replies=replies, views=views, profile_clicks=visits,
                          negative=negative, follows=follows, bookmarks=poisson(views * _POST_RATES["bookmark"], rng))

    def _with_follow_effect(self, choice: PostChoice, base: int, base_mean: float, rng: random.Random) -> int:
        """A Poisson(base_mean) draw ``base`` made Poisson(base_mean × the choice's follow multiplier), so that
        ``rng`` advances exactly as it did before follows had effects of their own: the base draw is made from
        ``rng`` as it always was, then thinned (multiplier < 1) or topped up (> 1) from a stream seeded by
        ``rng``'s state, which it does not advance. A seed's views, likes and every later post therefore stay what
        they were (benchmarks reproduce)."""
        multiplier = self.follow_multiplier(choice)
        if multiplier == 1.0:
            return base
        extra = random.Random(hash(rng.getstate()[1]))  # a tuple of ints: its hash is stable across runs
        if multiplier < 1.0:
            return sum(1 for _ in range(base) if extra.random() < multiplier)
        return base + poisson(base_mean * (multiplier - 1.0), extra)

    # ---- replies (issue 24: the reply's style, voice and the target's relevance have effects of their own) -------

    def reply_style_effects(self, names: tuple[str, ...] | list[str], *, kind: str = "style",
                            seed: int | None = None) -> dict[str, tuple[float, float]]:
        """name -> (effect on log views, effect on the log follow conversion) of each reply style (``kind`` "style")
        or voice ("voice"), drawn per name from the seed (``seed`` another one: what pays changes), so any names a
        niche configures have effects. Styles matter more than voices; the follow effects scale with
        ``follow_spread``."""
        sd_views, sd_follows = (REPLY_STYLE_SD, REPLY_STYLE_FOLLOW_SD) if kind == "style" else (
            REPLY_VOICE_SD, REPLY_VOICE_FOLLOW_SD)
        out = {}
        for name in names:
            rng = random.Random(f"reply-{kind}:{self.seed if seed is None else seed}:{name}")
            out[name] = (rng.gauss(0.0, sd_views), self.follow_spread * rng.gauss(0.0, sd_follows))
        return out

    def reply_latent(self, *, text: str, followers: int, target_followers: int, target_likes: int,
                     target_age_hours: float, effects: tuple[float, float] = (0.0, 0.0),
                     relevance: float | None = None) -> tuple[float, float, float]:
        """(mean log views, per-view profile-click rate, clicks' follow rate) of one reply; ``effects`` the summed
        (views, follows) effects of its style and voice. The target's relevance to what the account is about moves
        the follow conversion (a reader of an on-topic thread is the account's audience); None: no effect."""
        quality = self.text_quality(text)
        target_views = max(60.0 * max(0, target_likes), 0.05 * max(0, target_followers))
        freshness = math.exp(-max(0.0, target_age_hours) / 4.0)  # the top of a thread is seen while it is hot
        exposure = 1.0 + 0.015 * target_views * freshness + 0.03 * max(0, followers)
        mean_log_views = math.log(exposure) + QUALITY_SLOPE * (quality - REFERENCE_QUALITY) + effects[0]
        click_rate = 0.012 * (0.5 + quality)
        follow_rate = (0.08 + 0.12 * quality) * math.exp(effects[1])
        if relevance is not None:
            follow_rate *= math.exp(REPLY_RELEVANCE_SLOPE * (relevance - 0.6))
        return mean_log_views, click_rate, min(1.0, follow_rate)

    def expected_reply_follows(self, **target: object) -> float:
        """E[follows at maturity] of one reply (reply_latent's arguments): the lognormal mean of its views × the
        profile-click rate × the clicks' follow rate. sample_reply_engagement caps follows at the clicks; the cap
        is left out (a follow rate above 1 would be needed for it to bind on average)."""
        mean_log_views, click_rate, follow_rate = self.reply_latent(**target)  # type: ignore[arg-type]
        return math.exp(mean_log_views + REPLY_SIGMA ** 2 / 2.0) * click_rate * follow_rate

    def expected_reply_reward(self, *, follower_price: float, **target: object) -> float:
        """E[log(1 + weighted)] of one reply at maturity, ``weighted`` = the visible counts (likes, retweets,
        replies) at X's heavy-ranker weights plus ``follower_price`` per follow, at their expected per-view rates
        (no count noise: the yardstick of the replies benchmark), by Gauss-Hermite quadrature over the reach."""
        mean_log_views, click_rate, follow_rate = self.reply_latent(**target)  # type: ignore[arg-type]
        w = HEAVY_RANKER_WEIGHTS
        per_view = (w["like"] * 0.02 + w["retweet"] * 0.0015 + w["reply"] * 0.002
                    + follower_price * click_rate * follow_rate)
        latent = mean_log_views + math.log(per_view) + REPLY_SIGMA * _GH_NODES
        return float(np.logaddexp(0.0, latent) @ _GH_WEIGHTS)

    def sample_reply_engagement(
        self,
        *,
        text: str,
        followers: int,
        target_followers: int,
        target_likes: int,
        target_age_hours: float,
        rng: random.Random,
        effects: tuple[float, float] = (0.0, 0.0),
        relevance: float | None = None,
    ) -> Engagement:
        """Final counts of one of our replies. A reply borrows the target tweet's audience: big and fresh targets
        bring many views, and replies convert views into profile visits (and follows) far better than posts.
        ``effects`` and ``relevance``: see reply_latent (the defaults leave the draws as they were before)."""
        quality = self.text_quality(text)
        mean_log_views, click_rate, follow_rate = self.reply_latent(
            text=text, followers=followers, target_followers=target_followers, target_likes=target_likes,
            target_age_hours=target_age_hours, effects=effects, relevance=relevance)
        latent_views = mean_log_views + rng.gauss(0.0, REPLY_SIGMA)
        views = max(1, round(math.exp(min(latent_views, 30.0))))
        profile_clicks = poisson(views * click_rate, rng)
        follows = min(profile_clicks, poisson(profile_clicks * follow_rate, rng))
        return Engagement(
            likes=poisson(views * 0.02, rng),
            retweets=poisson(views * 0.0015, rng),
            replies=poisson(views * 0.002, rng),
            views=views,
            profile_clicks=profile_clicks,
            negative=poisson(views * _negative_rate(quality), rng),
            follows=follows,
            bookmarks=poisson(views * 0.002, rng),
        )


@lru_cache(maxsize=4096)
def _offset(followers: int, quality: float) -> float:
    return (
        _reach_log(followers)
        + QUALITY_SLOPE * (quality - REFERENCE_QUALITY)
        + math.log(weight_per_view(quality))
    )


def _spread_effects(rng: random.Random, n: int, *, sd: float) -> tuple[float, ...]:
    """n effects centred on 0 and rescaled to standard deviation ``sd``: a gap between arms every seed has."""
    raw = [rng.gauss(0.0, 1.0) for _ in range(n)]
    mean = sum(raw) / n
    centred = [r - mean for r in raw]
    spread = math.sqrt(sum(c * c for c in centred) / n) or 1.0
    return tuple(c * sd / spread for c in centred)


def _best_label(
    lowered: str,
    lexicon: dict[str, tuple[str, ...]],
    labels: tuple[str, ...],
    text: str,
    *,
    weak: set[str] | frozenset[str] = frozenset(),
) -> str:
    # The first line is the hook that frames a post, so its cues count twice.
    hook = " " + lowered.strip().split("\n", 1)[0] + " "
    best, best_score = None, 0.0
    for label in labels:
        score = 0.0
        for cue in lexicon[label]:
            hits = lowered.count(cue)
            if hits:
                score += (0.4 if cue in weak else 1.0) * (min(hits, 3) + min(hook.count(cue), 1))
        if score > best_score:
            best, best_score = label, score
    if best is None:
        # No cue at all: a stable pick from the text, so the same text always lands on the same arm.
        best = labels[zlib.crc32(text.encode()) % len(labels)]
    return best


_URL = re.compile(r"https?://\S+")
_HASHTAG = re.compile(r"#\w+")
_GENERIC_OPENERS = ("in today's world", "in this day and age", "great post", "as we all know", "let's talk about",
                    "did you know that", "hey everyone", "i wanted to share")


def text_quality(text: str) -> float:
    """0..1: a hook that earns the click, a length X rewards, and short words and sentences."""
    stripped = text.strip()
    if not stripped:
        return 0.0
    first_line = stripped.split("\n", 1)[0]
    lowered = stripped.lower()

    hook = 0.5
    if len(first_line) <= 90:
        hook += 0.15
    if re.match(r"^\d", first_line) or first_line.endswith(("?", ":")) or "myth" in first_line.lower():
        hook += 0.2
    if any(lowered.startswith(opener) for opener in _GENERIC_OPENERS):
        hook -= 0.4

    n = len(stripped)
    if n < 40:
        length = n / 40 * 0.5
    elif n < 100:
        length = 0.5 + 0.5 * (n - 40) / 60
    elif n <= 1600:
        length = 1.0
    else:
        length = 0.7

    words = re.findall(r"[A-Za-z']+", stripped)
    sentences = max(1, len(re.findall(r"[.!?]+(\s|$)", stripped)))
    if words:
        avg_word = sum(len(w) for w in words) / len(words)
        words_per_sentence = len(words) / sentences
        readability = 1.0 - 0.15 * max(0.0, avg_word - 5.0) - 0.02 * max(0.0, words_per_sentence - 20.0)
    else:
        readability = 0.2

    spam = 0.0
    spam += 0.15 * max(0, len(_HASHTAG.findall(stripped)) - 1)
    spam += 0.1 * len(_URL.findall(stripped))
    letters = [c for c in stripped if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.5:
        spam += 0.3

    score = 0.35 * hook + 0.3 * length + 0.35 * readability - spam
    return min(1.0, max(0.0, score))
