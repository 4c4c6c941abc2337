"""The openai client wrapper against the sandbox's text endpoint and its injected faults."""

import pytest
from pydantic import SecretStr

from services.planner.llm import (
    LlmMalformedOutput,
    LlmPermanentError,
    LlmTimedOut,
    LlmUnavailable,
    RetryPolicy,
    TextModel,
)

MESSAGES = [{"role": "user", "content": "kind: post\ncontent_type: practical_tip\ntopic: sleep\nmax_chars: 260"}]


async def _no_sleep(_: float) -> None:
    return None


def model(endpoint, *, key: str = "sandbox", attempts: int = 4, timeout: float = 5.0) -> TextModel:
    return TextModel(base_url=endpoint.base_url, api_key=SecretStr(key), timeout=timeout,
                     retry=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.05), sleep=_no_sleep)


async def test_completion_with_usage(text_endpoint) -> None:
    m = model(text_endpoint)
    c = await m.complete(MESSAGES, model="gpt-4o", max_tokens=300)
    assert c.text.strip() and len(c.text) <= 280
    assert c.prompt_tokens > 0 and c.completion_tokens > 0
    assert c.model == "gpt-4o" and c.request_id and c.attempts == 1
    await m.close()


@pytest.mark.parametrize("mode", ["429", "500"])
async def test_transient_errors_are_retried(text_endpoint, mode: str) -> None:
    m = model(text_endpoint)
    await text_endpoint.fault(mode, 2)
    c = await m.complete(MESSAGES, model="gpt-4o", max_tokens=300)
    assert c.attempts == 3 and m.retries == 2
    await m.close()


async def test_timeout_is_reported_to_the_caller_which_holds_the_budget(text_endpoint) -> None:
    # A timed-out call may have been billed: the Drafter charges it and tries again (test_llm_realistic.py).
    m = model(text_endpoint, timeout=0.5)
    await text_endpoint.fault("timeout", 1, seconds=3)
    with pytest.raises(LlmTimedOut, match="XBOT_LLM_TIMEOUT_SECONDS"):
        await m.complete(MESSAGES, model="gpt-4o", max_tokens=300)
    assert (await m.complete(MESSAGES, model="gpt-4o", max_tokens=300)).attempts == 1
    await m.close()


async def test_retries_are_bounded(text_endpoint) -> None:
    m = model(text_endpoint, attempts=3)
    await text_endpoint.fault("429", 10)
    with pytest.raises(LlmUnavailable):
        await m.complete(MESSAGES, model="gpt-4o", max_tokens=300)
    assert m.retries == 2
    await m.close()


async def test_malformed_answer_is_classified_and_keeps_its_usage(text_endpoint) -> None:
    m = model(text_endpoint)
    await text_endpoint.fault("malformed", 1)
    with pytest.raises(LlmMalformedOutput) as info:
        await m.complete(MESSAGES, model="gpt-4o", max_tokens=300)
    assert info.value.completion is not None and info.value.completion.completion_tokens > 0
    # The next answer is fine again.
    assert (await m.complete(MESSAGES, model="gpt-4o", max_tokens=300)).text
    await m.close()


async def test_bad_key_is_permanent_and_not_retried(text_endpoint) -> None:
    m = model(text_endpoint, key="invalid")
    with pytest.raises(LlmPermanentError) as info:
        await m.complete(MESSAGES, model="gpt-4o", max_tokens=300)
    assert m.retries == 0
    assert "invalid" not in str(info.value).lower().replace("invalid_api_key", "")
    await m.close()
