"""Drawing a post's content type and topic among the pairs the duplicate window leaves room for (issue 21, calls
per queued item): which pairs are allowed, and the propensity of the conditioned draw, which the learner's
off-policy evaluation divides by."""

import itertools
import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from libs.gates import OwnPost, RecentPosts
from libs.policy import _propensity, arm_mass, arm_order, region_mass
from services.planner.choices import Policy, allowed_pairs, arms, sample_post_choice
from libs.contracts.events import Choice
from libs.niche import load_niche

CONFIG = load_niche()
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
TYPES = CONFIG.content_types
TOPICS = CONFIG.topics


def _post(content_type: str | None, topic: str, days_ago: float) -> OwnPost:
    text = f"{content_type} {topic} {days_ago}"
    return OwnPost(text, text, topic, NOW - timedelta(days=days_ago), None, content_type)


def _recent(*posts: OwnPost) -> RecentPosts:
    # topics_latest_last sorts by time: older posts first.
    return RecentPosts(list(posts))


def _choice(content_type: str, topic: str) -> Choice:
    return Choice(content_type=content_type, topic=topic, format="single", hour=9, voice="owner",
                  hook_style=CONFIG.hook_styles[0])


def _spread_topics(n: int, start: float = 20.0) -> list[OwnPost]:
    """``n`` older posts cycling through every topic: no topic is stale after them."""
    return [_post("question", TOPICS[i % len(TOPICS)], start + i * 0.01) for i in range(n)]


# ---------------------------------------------------------------- which pairs


def test_a_pair_the_window_holds_enough_posts_of_is_not_allowed() -> None:
    cap = CONFIG.gates.pair_max_in_window
    assert cap == 3
    posts = [_post("story", "sleep", 25 - i) for i in range(cap)] + _spread_topics(20)
    pairs = allowed_pairs(CONFIG, _recent(*posts), NOW)
    assert ("story", "sleep") not in pairs
    assert ("framework", "sleep") in pairs and ("story", "stress") in pairs
    # One fewer, and the pair is allowed again.
    pairs = allowed_pairs(CONFIG, _recent(*posts[1:]), NOW)
    assert ("story", "sleep") in pairs


def test_posts_out_of_the_window_and_of_unknown_type_do_not_count_for_the_pair() -> None:
    old = [_post("story", "sleep", CONFIG.gates.duplicate_window_days + 1 + i) for i in range(3)]
    unknown = [_post(None, "sleep", 25 - i) for i in range(3)]
    pairs = allowed_pairs(CONFIG, _recent(*old, *unknown, *_spread_topics(20)), NOW)
    assert ("story", "sleep") in pairs


def test_the_runs_planned_posts_count_as_in_the_window() -> None:
    posts = [_post("story", "sleep", 25), *_spread_topics(20)]
    planned = [_choice("story", "sleep"), _choice("data_insight", "stress")]
    pairs = allowed_pairs(CONFIG, _recent(*posts), NOW, planned)
    assert ("story", "sleep") in pairs  # 2 in the window with the planned one, 3 would be refused
    pairs = allowed_pairs(CONFIG, _recent(*posts), NOW, [*planned, _choice("story", "sleep")])
    assert ("story", "sleep") not in pairs


def test_a_topic_the_freshness_gate_would_refuse_is_not_drawn() -> None:
    g = CONFIG.gates
    # The last posts: the topic max_in_window times among the last window - 1 (the gate counts the new one too).
    latest = [_post("question", "hydration", 1 + i * 0.1) for i in range(g.topic_max_in_window)]
    pairs = allowed_pairs(CONFIG, _recent(*_spread_topics(20), *latest), NOW)
    assert not any(t == "hydration" for _, t in pairs)
    assert {t for _, t in pairs} == set(TOPICS) - {"hydration"}
    # Planned posts of the run count as the latest.
    planned = [_choice("story", "sleep")] * g.topic_max_in_window
    pairs = allowed_pairs(CONFIG, _recent(*_spread_topics(20)), NOW, planned)
    assert not any(t == "sleep" for _, t in pairs)


def test_no_pair_left_drops_the_pair_limit_first() -> None:
    every_pair = list(itertools.product(TYPES, TOPICS)) * CONFIG.gates.pair_max_in_window
    crowded = [_post(c, t, 25 - 0.001 * i) for i, (c, t) in enumerate(every_pair)]
    pairs = allowed_pairs(CONFIG, _recent(*crowded), NOW)
    assert pairs == {(c, t) for c in TYPES for t in TOPICS}
    off = CONFIG.model_copy(update={"gates": CONFIG.gates.model_copy(update={"pair_max_in_window": 0})})
    posts = [_post("story", "sleep", 25 - i) for i in range(5)] + _spread_topics(20)
    assert ("story", "sleep") in allowed_pairs(off, _recent(*posts), NOW)


# ---------------------------------------------------------------- the mass of a region, and the conditioned draw

DIMS = {d: arms(CONFIG, d) for d in ("content_type", "topic", "format", "hour")}


def _model(floor: float) -> dict:
    rng = random.Random(3)
    props = {}
    for d in ("content_type", "topic", "hour"):
        w = [rng.uniform(0.1, 1.0) for _ in DIMS[d]]
        share = [x / sum(w) for x in w]
        props[d] = {str(a): (1 - floor) * s + floor / len(w) for a, s in zip(DIMS[d], share)}
    return {"propensities": props, "floor": floor}


def test_region_mass_is_the_sum_of_the_propensities_inside_it() -> None:
    """Brute force over every action: the mass is the probability of drawing inside the region, under the floor
    mixture (the format is not in the model: uniform outside it)."""
    pairs = {pair for i, pair in enumerate(itertools.product(TYPES, TOPICS)) if i % 3}
    hours = {str(h) for h in CONFIG.hours if h % 4}
    for floor in (0.0, 0.25):
        model = _model(floor)
        ordered = {d: arm_order(d, a) for d, a in DIMS.items()}
        total = inside = 0.0
        for c, t, f, h in itertools.product(*ordered.values()):
            p = _propensity(model, {"content_type": c, "topic": t, "format": f, "hour": h}, ordered)
            total += p
            inside += p if (c, t) in pairs and h in hours else 0.0
        assert math.isclose(total, 1.0, rel_tol=1e-9)
        mass = region_mass(model, DIMS, {("content_type", "topic"): pairs, ("hour",): {(h,) for h in hours}})
        assert math.isclose(mass, inside, rel_tol=1e-9)
        # One group alone is the arm mass the hour was conditioned with before.
        assert math.isclose(region_mass(model, DIMS, {("hour",): {(h,) for h in hours}}),
                            arm_mass(model, "hour", DIMS["hour"], hours), rel_tol=1e-9)
    assert math.isclose(region_mass(None, DIMS, {("content_type", "topic"): pairs}),
                        len(pairs) / (len(TYPES) * len(TOPICS)), rel_tol=1e-12)


def test_the_pair_is_drawn_among_the_allowed_ones_with_the_conditional_propensity() -> None:
    """With a floor and open hours too: every draw is inside the region, its propensity is the policy's
    probability of the action divided by the region's mass, and the frequencies are those probabilities."""
    floor = 0.2
    model = _model(floor)
    policy = Policy("v3", model["propensities"], floor=floor)
    allowed = {(c, t) for c, t in itertools.product(TYPES, TOPICS) if t not in ("sleep", "stress")
               and (c, t) != ("story", "nutrition")}
    hours = [h for h in CONFIG.hours if h not in (9, 10)]
    mass = region_mass(model, DIMS, {("content_type", "topic"): allowed, ("hour",): {(str(h),) for h in hours}})
    ordered = {d: arm_order(d, a) for d, a in DIMS.items()}
    rng = random.Random(8)
    n = 12000
    seen: Counter[tuple[str, str]] = Counter()
    for _ in range(n):
        c, p = sample_post_choice(policy, CONFIG, rng, open_hours=hours, allowed_pairs=allowed)
        assert (c.content_type, c.topic) in allowed and c.hour in hours
        seen[(c.content_type, c.topic)] += 1
        action = {"content_type": c.content_type, "topic": c.topic, "format": c.format, "hour": str(c.hour)}
        assert math.isclose(p, _propensity(model, action, ordered) / mass, rel_tol=1e-9)
    hours_ok = {str(h) for h in hours}
    for pair in [("framework", "exercise"), ("question", "nutrition"), ("data_insight", "longevity")]:
        prob = sum(_propensity(model, {"content_type": pair[0], "topic": pair[1], "format": f, "hour": h}, ordered)
                   for f in ordered["format"] for h in hours_ok) / mass
        assert abs(seen[pair] / n - prob) < 5 * math.sqrt(prob * (1 - prob) / n), (pair, prob, seen[pair] / n)


def test_every_pair_allowed_is_the_unconditioned_draw() -> None:
    policy = Policy("v3", _model(0.1)["propensities"], floor=0.1)
    every = {(c, t) for c in TYPES for t in TOPICS}
    assert sample_post_choice(policy, CONFIG, random.Random(4), allowed_pairs=every) \
        == sample_post_choice(policy, CONFIG, random.Random(4))


def test_a_region_the_policy_almost_never_draws_is_given_up() -> None:
    """A policy that all but never draws the allowed pairs: the pair restriction is dropped (redrawing would take
    too long), and the propensity is the plain one."""
    props = {"content_type": {c: (1.0 if c == "story" else 0.0) for c in TYPES}}
    policy = Policy("v4", props)
    allowed = {("framework", "sleep")}
    c, p = sample_post_choice(policy, CONFIG, random.Random(2), allowed_pairs=allowed)
    assert c.content_type == "story"
    _, q = sample_post_choice(policy, CONFIG, random.Random(2))
    assert math.isclose(p, q)
