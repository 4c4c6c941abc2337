import math

import pytest

from services.learner.rewards import (
    AccountRate,
    CheckpointCalibration,
    FollowerExchangeRate,
    composite_weights,
    exposure_weight,
    log_reward,
    provisional_weight,
    shrunk_weighted_engagement,
    trailing_baseline,
    weighted_engagement,
)


def test_weighted_engagement_uses_heavy_ranker_weights():
    # 0.5*10 + 1*2 + 13.5*1 + 12*1 = 32.5
    counts = {"likes": 10, "retweets": 2, "replies": 1, "profile_clicks": 1, "views": 900}
    assert weighted_engagement(counts) == pytest.approx(32.5)
    assert log_reward(weighted_engagement(counts)) == pytest.approx(math.log(33.5))


def test_negative_feedback_clips_at_zero_and_missing_counts_are_zero():
    assert weighted_engagement({"likes": 4, "negative": 1}) == 0.0  # 2 - 74 < 0
    assert weighted_engagement({"likes": 4}, {"like": 0.5, "reply": 13.5}) == pytest.approx(2.0)
    assert log_reward(0.0) == 0.0


def test_exposure_weight_downweights_but_never_drops():
    assert exposure_weight(10, half_views=10) == pytest.approx(0.5)
    assert exposure_weight(990, half_views=10) == pytest.approx(0.99)
    assert exposure_weight(0) == pytest.approx(0.2)


def test_trailing_baseline_is_mean_of_last_window():
    assert trailing_baseline([1.0, 2.0, 3.0, 5.0], window=2) == pytest.approx(4.0)
    assert trailing_baseline([], window=5, fallback=2.5) == 2.5


def test_calibration_ratio_is_shrunk_ratio_of_sums():
    cal = CheckpointCalibration(prior_ratio=0.4, prior_extra_var=0.2, prior_posts=2.0)
    assert cal.ratio == 0.4
    cal.observe(30.0, 60.0)
    cal.observe(10.0, 40.0)
    cal.observe(60.0, 100.0)  # sums: early 100, matured 200 -> learned 0.5 over n = 3 posts
    assert cal.ratio == pytest.approx((2 * 0.4 + 3 * 0.5) / 5)
    r = cal.ratio
    sq = (math.log1p(30 / r) - math.log1p(60)) ** 2 + (math.log1p(10 / r) - math.log1p(40)) ** 2 + (
        math.log1p(60 / r) - math.log1p(100)) ** 2
    assert cal.extra_var == pytest.approx((2 * 0.2 + sq) / 5)
    assert cal.provisional_reward(20.0) == pytest.approx(math.log1p(20.0 / r))


def test_provisional_observation_counts_less():
    assert provisional_weight(1.0, 0.25) == pytest.approx(0.8)
    assert provisional_weight(1.0, 0.0) == 1.0


def test_rate_shrinkage_toward_account_rate():
    account = AccountRate()
    account.observe({"likes": 100, "views": 1000})  # 50 / 1000
    assert account.rate == pytest.approx(0.05)
    # a post seen by 100 people with one report: raw = 0.5*4 - 74 < 0, shrunk: 100*(-72 + 300*0.05)/(400)
    counts = {"likes": 4, "negative": 1, "views": 100}
    assert shrunk_weighted_engagement(counts, account_rate=0.05, prior_views=300) == 0.0
    counts = {"likes": 8, "replies": 1, "views": 100}  # raw 17.5
    assert shrunk_weighted_engagement(counts, account_rate=0.05, prior_views=300) == pytest.approx(
        100 * (17.5 + 15) / 400)
    assert shrunk_weighted_engagement(counts, account_rate=None) == pytest.approx(17.5)


def test_the_exchange_rate_prices_a_follower_at_the_engagement_the_account_earns_per_follower():
    rate = FollowerExchangeRate(min_followers=5.0)
    rate.observe(100.0, 2.0)
    assert rate.rate is None  # 2 followers are too few to price them: the reward stays engagement
    rate.observe(300.0, 3.0)
    rate.observe(50.0, -1.0)  # a net loss attributed to a post counts against the total
    assert rate.rate is None  # net 4 < 5
    rate.observe(50.0, 1.0)
    assert rate.rate == pytest.approx(500.0 / 5.0)  # a ratio of sums: followers and engagement weigh the same
    assert composite_weights({"like": 0.5}, None) == {"like": 0.5}
    weights = composite_weights({"like": 0.5}, rate.rate)
    assert weights == {"like": 0.5, "follower": 100.0}
    assert weighted_engagement({"likes": 10, "followers": 2}, weights) == pytest.approx(205.0)
