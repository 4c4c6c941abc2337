import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.planner.choices import (
    POST_ACTION_DIMENSIONS, Policy, PosterCaps, QueueDepth, arms, draft_hooks, hour_arms, marginal, next_slot,
    open_hours, plan_quota, sample_post_choice, sample_reply_choice,
)
from services.planner.config import PlannerSettings
from libs.core.settings import SettingsError, load_settings
from libs.niche import DEFAULT_NICHE_PATH as CONFIG_PATH, NicheConfig, load_niche

CONFIG = load_niche()


def test_default_arms_are_the_sandbox_audience_arms() -> None:
    assert arms(CONFIG, "content_type") == (
        "myth_busting", "framework", "research_breakdown", "practical_tip",
        "story", "contrarian_take", "data_insight", "question",
    )
    assert arms(CONFIG, "topic") == (
        "sleep", "nutrition", "exercise", "stress", "gut_health",
        "longevity", "mental_health", "hydration", "metabolic_health", "heart_health",
    )
    # One voice per account (the owner's), not a persona drawn per item.
    assert arms(CONFIG, "voice") == ("owner",)
    assert set(arms(CONFIG, "reply_style")) == {
        "add_insight", "reframe", "practical_implication", "one_sharp_line", "mini_framework"}


def test_uniform_before_any_model() -> None:
    rng = random.Random(1)
    choice, p = sample_post_choice(Policy(), CONFIG, rng)
    expected = 1.0
    # Voice and hook style are drawn too, but they are not part of the learner's action.
    for dim in POST_ACTION_DIMENSIONS:
        expected /= len(arms(CONFIG, dim))
    assert math.isclose(p, expected)
    assert choice.topic in CONFIG.topics


def _random_dist(names, draw) -> dict[str, float]:
    weights = [draw(st.floats(0.01, 1.0)) for _ in names]
    total = sum(weights)
    return {n: w / total for n, w in zip(names, weights)}


@settings(max_examples=8, deadline=None)
@given(st.data())
def test_empirical_frequencies_match_the_propensities(data) -> None:
    types = _random_dist(CONFIG.content_types, data.draw)
    formats = _random_dist(CONFIG.formats, data.draw)
    policy = Policy("v1", {"content_type": types, "format": formats})
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    n = 6000
    seen_types: Counter[str] = Counter()
    seen_formats: Counter[str] = Counter()
    joint: Counter[tuple[str, str]] = Counter()
    logged: dict[tuple[str, str], float] = {}
    for _ in range(n):
        c, p = sample_post_choice(policy, CONFIG, rng)
        seen_types[c.content_type] += 1
        seen_formats[c.format] += 1
        joint[(c.content_type, c.format)] += 1
        # The propensity is the product over the action's dimensions, the uniform ones (topic, hour) included.
        uniform_rest = 1 / (len(CONFIG.topics) * len(CONFIG.hours))
        assert math.isclose(p, types[c.content_type] * formats[c.format] * uniform_rest, rel_tol=1e-9)
        logged[(c.content_type, c.format)] = types[c.content_type] * formats[c.format]
    for arm, prob in types.items():
        sd = math.sqrt(prob * (1 - prob) / n)
        assert abs(seen_types[arm] / n - prob) < 5 * sd + 1e-9, (arm, prob, seen_types[arm] / n)
    for arm, prob in formats.items():
        sd = math.sqrt(prob * (1 - prob) / n)
        assert abs(seen_formats[arm] / n - prob) < 5 * sd + 1e-9
    # Independence: joint frequency ~ product of marginals.
    for key, prob in logged.items():
        sd = math.sqrt(prob * (1 - prob) / n)
        assert abs(joint[key] / n - prob) < 5 * sd + 1e-9


def test_with_a_floor_the_joint_draw_is_the_learners_mixture() -> None:
    """With probability floor every action dimension is uniform, else each from its Thompson share; the
    propensity is the mixture's probability of the whole action and the marginals stay as published."""
    floor = 0.2
    k_type, k_fmt = len(CONFIG.content_types), len(CONFIG.formats)
    share_type = {a: (0.7 if a == "story" else 0.3 / (k_type - 1)) for a in CONFIG.content_types}
    share_fmt = {"single": 0.9, "thread": 0.1}
    marg_type = {a: (1 - floor) * p + floor / k_type for a, p in share_type.items()}
    marg_fmt = {a: (1 - floor) * p + floor / k_fmt for a, p in share_fmt.items()}
    policy = Policy("v9", {"content_type": marg_type, "format": marg_fmt}, floor=floor)
    rng = random.Random(11)
    n = 20000
    joint: Counter[tuple[str, str]] = Counter()
    flat = 1 / (k_type * k_fmt * len(CONFIG.topics) * len(CONFIG.hours))
    for _ in range(n):
        c, p = sample_post_choice(policy, CONFIG, rng)
        joint[(c.content_type, c.format)] += 1
        thompson = share_type[c.content_type] * share_fmt[c.format] / (len(CONFIG.topics) * len(CONFIG.hours))
        assert math.isclose(p, (1 - floor) * thompson + floor * flat, rel_tol=1e-9)
    for key in [("story", "single"), ("story", "thread"), ("framework", "single")]:
        prob = (1 - floor) * share_type[key[0]] * share_fmt[key[1]] + floor / (k_type * k_fmt)
        sd = math.sqrt(prob * (1 - prob) / n)
        assert abs(joint[key] / n - prob) < 5 * sd, (key, prob, joint[key] / n)
    story = sum(v for (t, _), v in joint.items() if t == "story") / n
    assert abs(story - marg_type["story"]) < 5 * math.sqrt(marg_type["story"] * (1 - marg_type["story"]) / n)


def test_from_model_reads_the_floor() -> None:
    from libs.contracts.events import ModelUpdated

    m = ModelUpdated(version="m8", created_at=datetime.now(UTC), propensities={"topic": {"sleep": 1.0}}, floor=0.1)
    assert Policy.from_model(m).floor == 0.1


def test_unknown_arms_are_dropped_and_the_rest_renormalised() -> None:
    policy = Policy("v2", {"topic": {"sleep": 0.5, "crypto": 0.5}})
    dist = marginal(policy, CONFIG, "topic")
    assert dist["sleep"] == 1.0
    assert "crypto" not in dist
    choice, p = sample_post_choice(policy, CONFIG, random.Random(0))
    assert choice.topic == "sleep"


def test_hours_from_the_model_are_string_keys() -> None:
    policy = Policy("v3", {"hour": {"9": 1.0}})
    choice, _ = sample_post_choice(policy, CONFIG, random.Random(0))
    assert choice.hour == 9


def test_reply_choice_samples_style_and_voice() -> None:
    policy = Policy("v4", {"reply_style": {"reframe": 0.8, "add_insight": 0.2}})
    choice, p = sample_reply_choice(policy, CONFIG, random.Random(3), topic="sleep", hour=7)
    assert choice.reply_style in ("reframe", "add_insight")
    assert math.isclose(p, (0.8 if choice.reply_style == "reframe" else 0.2) / len(CONFIG.voices))
    assert (choice.content_type, choice.topic, choice.hour) == ("reply", "sleep", 7)


def test_from_model_reads_a_model_updated_payload() -> None:
    from libs.contracts.events import ModelUpdated

    m = ModelUpdated(version="m7", created_at=datetime.now(UTC), propensities={"topic": {"sleep": 1.0}},
                     insights={"best_hooks": ["a number"]})
    policy = Policy.from_model(m)
    assert policy.version == "m7" and policy.insights["best_hooks"] == ["a number"]


@given(st.integers(0, 23), st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)),
       st.integers(0, 10_000))
def test_next_slot_is_in_the_hour_and_not_in_the_past(hour: int, naive: datetime, seed: int) -> None:
    now = naive.replace(tzinfo=UTC)
    slot = next_slot(hour, now, random.Random(seed))
    assert slot.hour == hour
    assert now <= slot < now + timedelta(days=1, hours=1)


CAPS = PosterCaps(posts_per_hour=2, posts_per_day=12, replies_per_hour=4, replies_per_day=30)


def test_quota_keeps_a_days_posts_and_the_horizons_replies() -> None:
    # Posts: a day's worth (2/h x 24 = 48, capped at 12 a day); replies: 3 h at 4/h.
    assert plan_quota(CAPS, QueueDepth(), horizon_hours=3).posts == 12
    assert plan_quota(CAPS, QueueDepth(pending_posts=4), horizon_hours=3).posts == 8
    assert plan_quota(CAPS, QueueDepth(), horizon_hours=3).replies == 12
    assert plan_quota(CAPS, QueueDepth(pending_replies=12), horizon_hours=3).replies == 0
    few = PosterCaps(posts_per_hour=0, posts_per_day=12, replies_per_hour=4, replies_per_day=30)
    assert plan_quota(few, QueueDepth(), horizon_hours=3).posts == 0


def test_quota_respects_the_daily_cap() -> None:
    q = plan_quota(CAPS, QueueDepth(posted_posts_today=10, pending_posts=1), horizon_hours=3)
    assert q.posts == 1
    assert plan_quota(CAPS, QueueDepth(posted_posts_today=12), horizon_hours=3).posts == 0


@given(
    st.builds(PosterCaps, st.integers(0, 10), st.integers(0, 50), st.integers(0, 20), st.integers(0, 100)),
    st.builds(QueueDepth, st.integers(0, 60), st.integers(0, 60), st.integers(0, 60), st.integers(0, 120)),
    st.floats(0.1, 24),
)
def test_quota_never_overfills(caps: PosterCaps, depth: QueueDepth, horizon: float) -> None:
    q = plan_quota(caps, depth, horizon_hours=horizon)
    assert q.posts >= 0 and q.replies >= 0
    if q.posts:
        assert depth.pending_posts + q.posts <= caps.posts_per_hour * 24
        assert depth.posted_posts_today + depth.pending_posts + q.posts <= caps.posts_per_day
    if q.replies:
        assert depth.pending_replies + q.replies <= math.ceil(caps.replies_per_hour * horizon)
        assert depth.posted_replies_today + depth.pending_replies + q.replies <= caps.replies_per_day


def test_open_hours_are_those_below_the_hourly_cap() -> None:
    assert open_hours(range(24), {9: 2, 10: 1}, posts_per_hour=2) == [h for h in range(24) if h != 9]
    assert open_hours(range(24), {h: 1 for h in range(24)}, posts_per_hour=1) == []


def test_the_hour_is_drawn_among_open_hours_with_the_conditional_propensity() -> None:
    """Conditioned on the open hours, an hour's frequency is its policy probability over the open hours' mass,
    and the logged propensity is the policy's probability of the action divided by that mass."""
    floor = 0.1
    k = len(CONFIG.hours)
    share = {str(h): (0.5 if h == 14 else 0.5 / (k - 1)) for h in CONFIG.hours}
    marg = {h: (1 - floor) * p + floor / k for h, p in share.items()}
    policy = Policy("v5", {"hour": marg}, floor=floor)
    taken = {14, 15, 16}
    allowed = [h for h in CONFIG.hours if h not in taken]
    mass = sum(marg[str(h)] for h in allowed)
    rng = random.Random(5)
    n = 12000
    seen: Counter[int] = Counter()
    rest = 1 / (len(CONFIG.content_types) * len(CONFIG.topics) * len(CONFIG.formats))
    for _ in range(n):
        c, p = sample_post_choice(policy, CONFIG, rng, open_hours=allowed)
        assert c.hour not in taken
        seen[c.hour] += 1
        assert math.isclose(p, marg[str(c.hour)] * rest / mass, rel_tol=1e-9)
    for h in (0, 9, 17):
        prob = marg[str(h)] / mass
        assert abs(seen[h] / n - prob) < 5 * math.sqrt(prob * (1 - prob) / n)
    # Every hour open: exactly the unconditioned draw.
    _, p = sample_post_choice(policy, CONFIG, random.Random(1), open_hours=CONFIG.hours)
    _, q = sample_post_choice(policy, CONFIG, random.Random(1))
    assert p == q


def test_the_topic_is_drawn_among_fresh_topics_with_the_conditional_propensity() -> None:
    """Half the post items of a demo were drawn on a topic the topic gate then refused (no call, the slot lost),
    and the queued ones were logged with their unconditioned propensity. Conditioned on fresh topics and open hours
    together, the logged propensity is the floor mixture's probability of the action over their joint mass (the
    floor ties the dimensions: not the product of the two marginal masses)."""
    f = 0.2
    topics, hours = arms(CONFIG, "topic"), arms(CONFIG, "hour")
    st_share = {t: 0.7 if t == "sleep" else 0.3 / (len(topics) - 1) for t in topics}
    sh_share = {h: 0.5 if h == "14" else 0.5 / (len(hours) - 1) for h in hours}
    policy = Policy("v9", {"topic": {t: (1 - f) * p + f / len(topics) for t, p in st_share.items()},
                           "hour": {h: (1 - f) * p + f / len(hours) for h, p in sh_share.items()}}, floor=f)
    fresh = [t for t in topics if t not in ("sleep", "nutrition")]
    open_ = [int(h) for h in hours if h not in ("14", "15")]
    mass = ((1 - f) * sum(st_share[t] for t in fresh) * sum(sh_share[str(h)] for h in open_)
            + f * len(fresh) / len(topics) * len(open_) / len(hours))
    rest = 1 / (len(CONFIG.content_types) * len(CONFIG.formats))
    rng, n, seen = random.Random(9), 1500, Counter()
    for _ in range(n):
        c, p = sample_post_choice(policy, CONFIG, rng, open_hours=open_, fresh_topics=fresh)
        assert c.topic in fresh and c.hour in open_
        seen[c.topic] += 1
        joint = (1 - f) * st_share[c.topic] * sh_share[str(c.hour)] + f / (len(topics) * len(hours))
        assert math.isclose(p, joint * rest / mass, rel_tol=1e-9)
    for t in ("exercise", "stress"):
        prob = sum(((1 - f) * st_share[t] * sh_share[str(h)] + f / (len(topics) * len(hours))) for h in open_) / mass
        assert abs(seen[t] / n - prob) < 5 * math.sqrt(prob * (1 - prob) / n)


def test_the_hour_arms_are_the_accounts_active_hours_and_the_propensity_stays_exact() -> None:
    """Active 07-23 in Berlin (UTC+1 in January) are the UTC hours 6-21: a policy that favours 3 o'clock UTC (the
    Berlin night) never gets a post planned there; the draw is the policy renormalised over the open arms, and
    the logged propensity is exactly its probability (floor included, over the open arms)."""
    active = PlannerSettings(active_hours_start=7, active_hours_end=23, account_timezone="Europe/Berlin").active_hours()
    now = datetime(2026, 1, 15, 12, tzinfo=UTC)
    config = hour_arms(CONFIG, active, now)
    assert config.hours == tuple(range(6, 22))
    # In July (summer time, UTC+2) the same local hours are 5-20 UTC.
    assert hour_arms(CONFIG, active, now.replace(month=7)).hours == tuple(range(5, 21))
    floor = 0.2
    marg = {str(h): (1 - floor) * (0.6 if h == 3 else 0.4 / 23) + floor / 24 for h in range(24)}
    policy = Policy("v7", {"hour": marg}, floor=floor)
    share = {h: (marg[str(h)] - floor / 24) / (1 - floor) for h in config.hours}
    total = sum(share.values())
    expected = {h: (1 - floor) * share[h] / total + floor / len(config.hours) for h in config.hours}
    rest = 1 / (len(CONFIG.content_types) * len(CONFIG.topics) * len(CONFIG.formats))
    rng, n, seen = random.Random(11), 8000, Counter[int]()
    for _ in range(n):
        c, p = sample_post_choice(policy, config, rng)
        assert c.hour in config.hours
        assert math.isclose(p, expected[c.hour] * rest, rel_tol=1e-9)
        seen[c.hour] += 1
    for h in (6, 12, 21):
        assert abs(seen[h] / n - expected[h]) < 5 * math.sqrt(expected[h] * (1 - expected[h]) / n)
    # No active hours (start == end): every arm stays.
    assert hour_arms(CONFIG, None, now) is CONFIG


def test_a_niche_whose_hours_are_all_quiet_stops_the_planner(tmp_path) -> None:
    niche = tmp_path / "night.yaml"
    niche.write_text(CONFIG_PATH.read_text().replace(f"hours: {list(range(24))}", "hours: [1, 2, 3]"))
    try:
        load_settings(PlannerSettings, niche_path=niche, active_hours_start=7, active_hours_end=23).niche()
    except SettingsError as err:
        assert "XBOT_ACTIVE_HOURS_START" in str(err) and "[1, 2, 3]" in str(err)
    else:
        raise AssertionError("a niche posting only at night must stop the planner")
    assert load_settings(PlannerSettings, niche_path=niche, active_hours_start=0, active_hours_end=0).niche()


def test_config_rejects_an_unpriced_model() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        NicheConfig.model_validate({"budget": {"normal_model": "nope"}})


@given(k=st.integers(min_value=1, max_value=9), seed=st.integers(min_value=0, max_value=10_000))
def test_a_slots_drafts_take_the_slot_hook_first_and_repeat_none_while_styles_remain(k: int, seed: int) -> None:
    styles = ("question", "number", "myth", "how_to", "story", "statement")
    hooks = draft_hooks("myth", styles, k, random.Random(seed))
    assert len(hooks) == k and hooks[0] == "myth"
    head = hooks[:len(styles)]
    assert len(set(head)) == len(head)  # distinct until every style is used
    assert set(hooks) <= set(styles)


def test_a_slots_drafts_draw_the_other_hooks_evenly() -> None:
    styles = ("question", "number", "myth", "how_to")
    rng = random.Random(3)
    seconds = Counter(draft_hooks("myth", styles, 2, rng)[1] for _ in range(3000))
    assert set(seconds) == {"question", "number", "how_to"}
    assert all(900 < n < 1100 for n in seconds.values())
