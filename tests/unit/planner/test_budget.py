import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.planner.budget import (
    BudgetLedger, BudgetTier, PriceTable, limit_quota_for_tier, model_for, prompt_token_bound,
)
from libs.niche import load_niche

CONFIG = load_niche()


def ledger(spent: float = 0.0, budget: float = 5.0) -> BudgetLedger:
    led = BudgetLedger.for_day("2025-01-01", CONFIG, spent_usd=spent)
    led.budget_usd = budget
    return led


def test_cost_from_the_price_table() -> None:
    prices = PriceTable.from_config(CONFIG)
    assert prices.cost("gpt-4o", 1_000_000, 0) == pytest.approx(2.5)
    assert prices.cost("gpt-4o-mini", 1000, 1000) == pytest.approx((150 + 600) / 1e6)
    # Unknown models cost like the dearest known one.
    assert prices.cost("mystery", 1000, 1000) == pytest.approx(prices.cost("gpt-4o", 1000, 1000))


@pytest.mark.parametrize(
    ("spent", "tier", "model"),
    [(0.0, BudgetTier.NORMAL, "gpt-4o"), (2.4, BudgetTier.NORMAL, "gpt-4o"), (2.6, BudgetTier.CHEAP, "gpt-4o-mini"),
     (3.9, BudgetTier.CHEAP, "gpt-4o-mini"), (4.1, BudgetTier.REPLIES_ONLY, "gpt-4o-mini"),
     (5.0, BudgetTier.EXHAUSTED, None)],
)
def test_tiers(spent: float, tier: BudgetTier, model: str | None) -> None:
    led = ledger(spent)
    assert led.tier() is tier
    assert model_for(tier, CONFIG) == model


def test_tier_limits_the_plan() -> None:
    assert limit_quota_for_tier(4, 6, BudgetTier.NORMAL) == (4, 6)
    assert limit_quota_for_tier(4, 6, BudgetTier.CHEAP) == (1, 0)
    assert limit_quota_for_tier(0, 6, BudgetTier.CHEAP) == (0, 1)
    assert limit_quota_for_tier(4, 6, BudgetTier.REPLIES_ONLY) == (0, 6)
    assert limit_quota_for_tier(4, 6, BudgetTier.EXHAUSTED) == (0, 0)


def test_a_call_that_does_not_fit_is_refused() -> None:
    led = ledger(spent=4.999)
    assert led.reserve("gpt-4o", 100_000, 1000) is None
    assert led.reserve("gpt-4o-mini", 1000, 100) is not None


def test_settle_charges_real_usage_and_releases_the_reservation() -> None:
    led = ledger()
    res = led.reserve("gpt-4o", 4000, 300)
    assert led.reserved_usd == pytest.approx(res.amount)
    evt = led.settle(res, request_id="r1", prompt_tokens=900, completion_tokens=120, purpose="post", content_id="c")
    assert led.reserved_usd == 0
    assert evt.cost_usd == pytest.approx((900 * 2.5 + 120 * 10) / 1e6)
    assert led.spent_usd == pytest.approx(evt.cost_usd)
    assert (evt.day, evt.model, evt.request_id) == ("2025-01-01", "gpt-4o", "r1")
    assert led.exhausted_event().spent_usd == pytest.approx(evt.cost_usd)


def test_prompt_bound_covers_bytes() -> None:
    msgs = [{"role": "system", "content": "é" * 10}, {"role": "user", "content": "abc"}]
    assert prompt_token_bound(msgs) >= 23


call = st.tuples(
    st.sampled_from(["gpt-4o", "gpt-4o-mini"]),
    st.integers(50, 20_000),  # prompt bytes
    st.integers(1, 1200),  # max_tokens
    st.floats(0, 1),  # fraction of the prompt bound actually used
    st.floats(0, 1),  # fraction of max_tokens actually used
    st.booleans(),  # answered (False: error before any usage)
)


@settings(max_examples=300, deadline=None)
@given(st.floats(0.001, 5.0), st.lists(call, max_size=400), st.integers(0, 3))
def test_the_days_spend_never_exceeds_the_budget(budget: float, calls, concurrency: int) -> None:
    led = ledger(budget=budget)
    in_flight = []
    for model, prompt_bound, max_tokens, used_p, used_c, answered in calls:
        res = led.reserve(model, prompt_bound, max_tokens)
        if res is not None:
            in_flight.append((res, int(prompt_bound * used_p), int(max_tokens * used_c), answered))
        # Several calls may be in flight at once; settle the oldest when over the concurrency.
        while len(in_flight) > concurrency:
            r, p, c, ok = in_flight.pop(0)
            if ok:
                led.settle(r, request_id="x", prompt_tokens=p, completion_tokens=c, purpose="post")
            else:
                led.release(r)
        assert led.spent_usd + led.reserved_usd <= budget + 1e-12
    for r, p, c, _ok in in_flight:
        led.settle(r, request_id="x", prompt_tokens=p, completion_tokens=c, purpose="post")
    assert led.spent_usd <= budget + 1e-12
