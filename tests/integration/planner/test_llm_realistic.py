"""The planner's client and drafting against the sandbox's realistic text endpoint, through the real ``openai``
client: every API-level behaviour of real providers the planner must survive."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from libs.contracts.events import Choice
from libs.niche import load_niche
from services.planner.budget import BudgetLedger, prompt_token_bound
from services.planner.drafting import Drafter
from services.planner.llm import (
    LlmPermanentError,
    LlmQuotaExhausted,
    LlmTimedOut,
    ModelProfile,
    RetryPolicy,
    TextModel,
)
from sandbox.habits import HabitRates
from services.planner.prompts import answer_schema, post_messages

CONFIG = load_niche()
NOW = datetime(2025, 3, 1, 9, tzinfo=UTC)
CHOICE = Choice(content_type="practical_tip", topic="sleep", format="single", hour=10, voice="owner",
                hook_style="question")
MESSAGES = post_messages(CHOICE, CONFIG)


class Waits:
    """The client's sleep: records what it was asked to wait, waits no real time."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def model(endpoint, *, key: str = "sandbox", timeout: float = 5.0, sleep=None, attempts: int = 4) -> TextModel:
    return TextModel(base_url=endpoint.base_url, api_key=SecretStr(key), timeout=timedelta(seconds=timeout),
                     retry=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.02),
                     sleep=sleep or Waits())


def drafter(endpoint, *, timeout: float = 5.0) -> Drafter:
    from libs.text import Embedder

    return Drafter(config=CONFIG, model=model(endpoint, timeout=timeout), ledger=BudgetLedger.for_day("d", CONFIG),
                   embedder=Embedder(), rng=random.Random(3))


def api_events(log: list[dict], name: str) -> int:
    return sum(1 for e in log if e.get("api") == name)


async def test_429_waits_what_retry_after_asks(realistic_endpoint) -> None:
    waits = Waits()
    m = model(realistic_endpoint, sleep=waits)
    await realistic_endpoint.fault("429", 2)
    c = await m.complete(MESSAGES, model="gpt-4o-mini", max_tokens=300)
    assert c.attempts == 3 and m.retries == 2
    assert waits.asked == [1.0, 1.0]  # the sandbox's Retry-After: 1, not the client's own backoff
    await m.close()


async def test_a_wait_longer_than_we_give_ends_the_call_as_unavailable(realistic_endpoint) -> None:
    from services.planner.llm import LlmUnavailable

    m = TextModel(base_url=realistic_endpoint.base_url, api_key=SecretStr("k"), sleep=Waits(),
                  max_server_wait=timedelta(seconds=0.5))
    await realistic_endpoint.fault("429", 1)
    with pytest.raises(LlmUnavailable, match="asks to wait"):
        await m.complete(MESSAGES, model="gpt-4o-mini", max_tokens=300)
    await m.close()


async def test_rate_limit_headers_pace_the_next_call(realistic_endpoint) -> None:
    # One request per 0.5 s: the answer says none is left, so the client waits for the reset instead of
    # running into a 429.
    await realistic_endpoint.configure(rpm_limit=1, rate_window_seconds=0.5)
    asked: list[float] = []

    async def real_sleep(seconds: float) -> None:
        asked.append(seconds)
        await asyncio.sleep(seconds)

    m = model(realistic_endpoint, sleep=real_sleep)
    await m.complete(MESSAGES, model="gpt-4o-mini", max_tokens=300)
    await m.complete(MESSAGES, model="gpt-4o-mini", max_tokens=300)
    assert len(asked) == 1 and 0 < asked[0] <= 0.5
    assert api_events(await realistic_endpoint.log(), "rate_limited") == 0
    await m.close()


async def test_500_is_retried(realistic_endpoint) -> None:
    m = model(realistic_endpoint)
    await realistic_endpoint.fault("500", 2)
    c = await m.complete(MESSAGES, model="gpt-4o-mini", max_tokens=300)
    assert c.attempts == 3 and m.retries == 2
    await m.close()


async def test_known_reasoning_model_is_asked_the_way_it_accepts(realistic_endpoint) -> None:
    m = model(realistic_endpoint)
    before = api_events(await realistic_endpoint.log(), "unsupported_parameter")
    c = await m.complete(MESSAGES, model="o3-mini", max_tokens=300)
    assert c.text and m.adaptations == 0
    assert api_events(await realistic_endpoint.log(), "unsupported_parameter") == before
    await m.close()


async def test_reasoning_model_400_is_adapted_and_remembered_per_model(realistic_endpoint) -> None:
    # A deployment alias hides the family: the client learns it from the server's 400s (max_tokens, then
    # temperature), then asks right from the start.
    m = model(realistic_endpoint)
    before = api_events(await realistic_endpoint.log(), "unsupported_parameter")
    c = await m.complete(MESSAGES, model="team-reasoning-deployment", max_tokens=300)
    assert c.text and m.adaptations == 2
    assert m.profile("team-reasoning-deployment") == ModelProfile(token_parameter="max_completion_tokens",
                                                                  temperature=False)
    await m.complete(MESSAGES, model="team-reasoning-deployment", max_tokens=300)
    assert m.adaptations == 2
    assert api_events(await realistic_endpoint.log(), "unsupported_parameter") == before + 2
    # Another model keeps its own profile.
    assert m.profile("gpt-4o-mini") == ModelProfile()
    await m.close()


async def test_response_format_400_falls_back_to_text_and_is_remembered(realistic_endpoint) -> None:
    # About the response format, not the habits: no refusal (a structured refusal has no JSON text to look at).
    await realistic_endpoint.configure(habits={"refusal": 0})
    m = model(realistic_endpoint)
    try:
        first = await m.complete(MESSAGES, model="gpt-3.5-turbo", max_tokens=300, schema=answer_schema("post"))
        assert not first.structured and m.adaptations == 1 and not m.profile("gpt-3.5-turbo").structured_output
        second = await m.complete(MESSAGES, model="gpt-3.5-turbo", max_tokens=300, schema=answer_schema("post"))
        assert not second.structured and m.adaptations == 1
        structured = await m.complete(MESSAGES, model="gpt-4o-mini", max_tokens=300, schema=answer_schema("post"))
        # The JSON asked for (a realistic model may still fence it or put a preamble before it, at its rates).
        assert structured.structured and '{"text": ' in structured.text
    finally:
        await realistic_endpoint.configure(habits={"refusal": HabitRates().refusal})
        await m.close()


async def test_insufficient_quota_halts_without_retrying(realistic_endpoint) -> None:
    await realistic_endpoint.configure(quota_exhausted=True)
    m = model(realistic_endpoint)
    with pytest.raises(LlmQuotaExhausted) as info:
        await m.complete(MESSAGES, model="gpt-4o-mini", max_tokens=300)
    assert m.retries == 0 and info.value.cause == "insufficient_quota" and "quota" in str(info.value)
    await m.close()


@pytest.mark.parametrize("mode, cause", [("401", "authentication"), ("403", "permission"),
                                         ("404", "model_not_found")])
async def test_401_403_404_halt_with_the_cause(realistic_endpoint, mode: str, cause: str) -> None:
    m = model(realistic_endpoint)
    await realistic_endpoint.fault(mode, 1)
    with pytest.raises(LlmPermanentError) as info:
        await m.complete(MESSAGES, model="gpt-4o-mini", max_tokens=300)
    assert info.value.cause == cause and info.value.status == int(mode) and m.retries == 0
    await m.close()


async def test_a_model_the_server_lacks_halts_naming_the_setting(realistic_endpoint) -> None:
    m = model(realistic_endpoint)
    with pytest.raises(LlmPermanentError, match="XBOT_LLM_MODEL") as info:
        await m.complete(MESSAGES, model="llama3-missing", max_tokens=300)
    assert info.value.cause == "model_not_found" and "not found" in str(info.value)
    assert "XBOT_LLM_CHEAP_MODEL (the review's model too)" in str(info.value)  # the review's asked model halts too
    await m.close()


async def test_the_servers_words_are_logged_never_the_key(realistic_endpoint, caplog) -> None:
    key = "sk-canary-0123456789abcdef"
    m = model(realistic_endpoint, key=key)
    await realistic_endpoint.fault("401", 1)
    caplog.set_level(logging.WARNING, logger="xbot.planner.llm")
    with pytest.raises(LlmPermanentError) as info:
        await m.complete(MESSAGES, model="gpt-4o-mini", max_tokens=300)
    logged = caplog.text
    assert "HTTP 401" in logged and "invalid_api_key" in logged and "Incorrect API key" in logged
    assert key not in logged and key not in str(info.value)
    await m.close()


async def test_missing_usage_is_charged_its_reservation(realistic_endpoint) -> None:
    d = drafter(realistic_endpoint)
    sent: list = []  # the prompt the drafter built (its facts drawn at random): what the reservation bounds
    complete = d.model.complete

    async def recording(messages, **kwargs):
        sent.append(messages)
        return await complete(messages, **kwargs)

    d.model.complete = recording  # type: ignore[method-assign]
    await realistic_endpoint.fault("no_usage", 1)
    out = await d.write_post(CHOICE, propensity=0.1, policy_version="u", now=NOW, scheduled_for=NOW)
    first = out.usage[0]
    # The reservation: the prompt's byte bound and the whole max_tokens, at the model's price.
    price = CONFIG.prices[CONFIG.budget.normal_model]
    assert first.completion_tokens == CONFIG.budget.max_tokens["post"]
    assert first.cost_usd == pytest.approx((first.prompt_tokens * price.prompt
                                            + first.completion_tokens * price.completion) / 1e6)
    assert first.prompt_tokens == prompt_token_bound(sent[0])  # the byte bound, not a server's count
    assert d.ledger.spent_usd == pytest.approx(out.cost_usd) and d.ledger.reserved_usd == 0
    await d.model.close()


async def test_a_timed_out_call_is_charged_and_tried_once_more(realistic_endpoint) -> None:
    # The second call must answer within the timeout on a loaded machine: 3 s, against a 10 s stall.
    d = drafter(realistic_endpoint, timeout=3)
    await realistic_endpoint.fault("timeout", 1, seconds=10)
    out = await d.write_post(CHOICE, propensity=0.1, policy_version="u", now=NOW, scheduled_for=NOW)
    assert out.usage[0].request_id.startswith("timeout-")
    assert out.usage[0].completion_tokens == CONFIG.budget.max_tokens["post"]
    assert len(out.usage) >= 2 and out.stopped is None
    await d.model.close()


async def test_two_timeouts_end_the_run_charged(realistic_endpoint) -> None:
    d = drafter(realistic_endpoint, timeout=0.5)
    await realistic_endpoint.fault("timeout", 2, seconds=3)
    out = await d.write_post(CHOICE, propensity=0.1, policy_version="u", now=NOW, scheduled_for=NOW)
    assert out.stopped == "llm_unavailable" and out.queued is None
    assert [u.request_id[:8] for u in out.usage] == ["timeout-", "timeout-"]
    assert out.cost_usd > 0 and d.ledger.spent_usd == pytest.approx(out.cost_usd)
    await d.model.close()


async def test_timeouts_are_not_retried_inside_the_client(realistic_endpoint) -> None:
    m = model(realistic_endpoint, timeout=0.5)
    await realistic_endpoint.fault("timeout", 1, seconds=3)
    with pytest.raises(LlmTimedOut):
        await m.complete(MESSAGES, model="gpt-4o-mini", max_tokens=300)
    assert m.retries == 0
    await m.close()


async def test_content_filter_drops_that_item_and_drafting_carries_on(realistic_endpoint) -> None:
    d = drafter(realistic_endpoint)
    await realistic_endpoint.fault("content_filter", 1)
    dropped = await d.write_post(CHOICE, propensity=0.1, policy_version="u", now=NOW, scheduled_for=NOW)
    assert dropped.queued is None and dropped.stopped is None and dropped.dropped == "content_filter"
    [rejection] = dropped.rejections
    assert rejection.gate == "content_filter" and rejection.final and "content management policy" in rejection.reason
    assert not dropped.usage and d.ledger.reserved_usd == 0  # a refused request is not billed
    other = CHOICE.model_copy(update={"topic": "hydration"})
    carried_on = await d.write_post(other, propensity=0.1, policy_version="u", now=NOW + timedelta(hours=1),
                                    scheduled_for=NOW)
    assert carried_on.usage and carried_on.stopped is None
    await d.model.close()


async def test_another_400_drops_the_item_not_the_planner(realistic_endpoint) -> None:
    from services.planner.llm import LlmRequestRejected

    m = model(realistic_endpoint)
    with pytest.raises(LlmRequestRejected) as info:
        await m.complete("not a list", model="gpt-4o-mini", max_tokens=300)  # type: ignore[arg-type]
    assert info.value.gate == "llm_request" and "HTTP 400" in str(info.value) and m.adaptations == 0
    await m.close()


async def test_a_post_written_from_news_names_its_source_or_is_written_again(realistic_endpoint) -> None:
    """Every news post of a demo ignored its angle (the sandbox's model wrote from the other facts) and each was
    recorded as the item's post. A draft that does not name the item's source is refused ("angle") and rewritten;
    one that does is queued with the angle."""
    from services.planner.news import NewsItem

    item = NewsItem(item_id="n1", title="Alcohol can make you fall asleep faster, but it disrupts sleep later in "
                    "the night.", summary="", source="Sandbox Journal", url="https://example.org/n1",
                    published_at=NOW - timedelta(hours=3), topic="sleep")
    d = drafter(realistic_endpoint)
    await realistic_endpoint.configure(habits={"ignores_angle": 1.0})
    try:
        ignored = await d.write_post(CHOICE, propensity=0.1, policy_version="u", now=NOW, scheduled_for=NOW,
                                     news=item)
    finally:
        await realistic_endpoint.configure(habits={"ignores_angle": HabitRates().ignores_angle})
    assert ignored.queued is None and ignored.rejections
    assert {r.gate for r in ignored.rejections} >= {"angle"}, [r.reason for r in ignored.rejections]
    taken = await d.write_post(CHOICE.model_copy(update={"topic": "sleep"}), propensity=0.1, policy_version="u",
                               now=NOW + timedelta(hours=1), scheduled_for=NOW, news=item)
    assert taken.queued is not None, [r.reason for r in taken.rejections]
    assert taken.queued.angle is not None and "Sandbox Journal" in " ".join(taken.queued.parts)
    await d.model.close()


async def posts_with_only(endpoint, habit: str, topics: tuple[str, ...], **choice: str):
    """Posts written while the endpoint's model has ``habit`` on every answer and no other (one that makes the
    answer over-long has the habit's sentence cut with the padding before it): the outcomes, and the answers that
    carried the habit."""
    d = drafter(endpoint)
    before = len(await endpoint.log())
    await endpoint.configure(habits={**{h: 0.0 for h in HabitRates().as_dict()}, habit: 1.0}, seed=5)
    try:
        outs = [await d.write_post(CHOICE.model_copy(update={"topic": t, **choice}), propensity=0.1,
                                   policy_version="u", now=NOW + timedelta(hours=i), scheduled_for=NOW)
                for i, t in enumerate(topics)]
        planted = [e for e in (await endpoint.log())[before:]
                   if any(x["habit"] == habit for x in e.get("defects", []))]
    finally:
        await endpoint.configure(habits=HabitRates().as_dict())
        await d.model.close()
    return outs, planted


async def test_a_handle_the_model_made_up_is_never_posted(realistic_endpoint) -> None:
    """"Follow @sleepdaily for more sleep tips.": the prompt gives no handle, so the model invented one (it tags a
    stranger). Such a post is refused ('entities') and written again, never queued with it. (The habit fires
    where the call fits the length asked: four items, so that some answers carry it.)"""
    outs, planted = await posts_with_only(realistic_endpoint, "cta", ("sleep", "hydration", "stress", "exercise"))
    refused = [r for o in outs for r in o.rejections if r.gate == "entities"]
    assert planted and len(refused) == len(planted), ([r.reason for o in outs for r in o.rejections], len(planted))
    assert all("made up: '@" in r.reason for r in refused)
    assert not any("@" in p for o in outs if o.queued for p in o.queued.parts)


async def test_a_biography_the_model_made_up_is_never_posted(realistic_endpoint) -> None:
    """"Nurse here.", "When I was diagnosed with prediabetes, …": the owner gave the account no profession and no
    health history, so the model invented them (2026-12-07). Such a post is refused ('identity') and written
    again, never queued with it."""
    from sandbox.habits import IDENTITIES

    outs, planted = await posts_with_only(realistic_endpoint, "invented_identity", ("sleep", "hydration", "stress"))
    # "Speaking as someone who reversed their insomnia:" is a cure claim too, which the medical gate reads first.
    refused = [r for o in outs for r in o.rejections if r.gate in ("identity", "medical_safety")]
    assert planted and len(refused) == len(planted), ([r.reason for o in outs for r in o.rejections], len(planted))
    assert any(r.gate == "identity" for r in refused)
    queued = [" ".join(o.queued.parts) for o in outs if o.queued is not None]
    assert queued and not any(claim in text for claim in IDENTITIES for text in queued)


async def test_a_contrarian_take_that_shames_people_is_never_posted(realistic_endpoint) -> None:
    """"Stop making excuses.", "Most people aren't tired, they're just lazy.": asked to push back, a model blames
    people (2026-12-07). Such a post is refused ('shaming') and written again, never queued with it."""
    from sandbox.habits import SHAMING

    outs, planted = await posts_with_only(realistic_endpoint, "shames", ("sleep", "hydration", "stress"),
                                          content_type="contrarian_take")
    refused = [r for o in outs for r in o.rejections if r.gate == "shaming"]
    assert planted and len(refused) == len(planted), ([r.reason for o in outs for r in o.rejections], len(planted))
    queued = [" ".join(o.queued.parts) for o in outs if o.queued is not None]
    assert queued and not any(blame in text for blame in SHAMING for text in queued)
