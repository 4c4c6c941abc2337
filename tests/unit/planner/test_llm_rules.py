"""Pure rules of the planner's LLM client: model profiles, adaptation to a 400, server-directed waits,
the server's words with the key masked, and the settings that choose and price the models."""

from __future__ import annotations

import pytest

from libs.core.settings import SettingsError, load_settings
from libs.niche import load_niche
from services.planner.config import PlannerSettings
from services.planner.llm import (
    ModelProfile,
    ServerError,
    adapted_profile,
    is_content_filter,
    is_reasoning_model,
    parse_duration,
    retry_after,
    server_error,
)


@pytest.mark.parametrize("name", ["o1", "o1-mini", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5.1",
                                  "openai/o3-mini", "o3-2025-04-16"])
def test_reasoning_families_by_name(name: str) -> None:
    assert is_reasoning_model(name)
    assert ModelProfile.for_name(name) == ModelProfile(token_parameter="max_completion_tokens", temperature=False)


@pytest.mark.parametrize("name", ["gpt-4o", "gpt-4o-mini", "llama3.1:8b", "qwen2.5:7b", "omni-moderation",
                                  "Qwen/Qwen2.5-7B-Instruct", "mistral-large"])
def test_other_models_keep_the_classic_parameters(name: str) -> None:
    assert not is_reasoning_model(name) and ModelProfile.for_name(name) == ModelProfile()


def error(message: str, param: str | None = None, code: str | None = None) -> ServerError:
    return ServerError(status=400, code=code, type="invalid_request_error", param=param, message=message)


def test_adaptation_follows_what_the_400_names() -> None:
    p = ModelProfile()
    p = adapted_profile(p, error("Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                                 "'max_completion_tokens' instead.", "max_tokens", "unsupported_parameter"))
    assert p == ModelProfile(token_parameter="max_completion_tokens")
    p = adapted_profile(p, error("Unsupported value: 'temperature' does not support 0.8 with this model. Only the "
                                 "default (1) value is supported.", "temperature", "unsupported_value"))
    assert p == ModelProfile(token_parameter="max_completion_tokens", temperature=False)
    p = adapted_profile(p, error("Invalid parameter: 'response_format' of type 'json_schema' is not supported "
                                 "with this model.", "response_format"))
    assert p is not None and not p.structured_output
    # Already adapted: the same 400 again is not adaptable (the item is dropped, no loop).
    assert adapted_profile(p, error("'temperature' is not supported", "temperature")) is None
    # An old server that does not know max_completion_tokens goes back to max_tokens.
    assert adapted_profile(ModelProfile(token_parameter="max_completion_tokens"),
                           error("Unrecognized request argument supplied: max_completion_tokens")) \
        == ModelProfile(token_parameter="max_tokens")


def test_a_400_about_something_else_is_not_adapted() -> None:
    assert adapted_profile(ModelProfile(), error("This model's maximum context length is 8192 tokens.")) is None
    assert adapted_profile(ModelProfile(), error("The response was filtered due to the prompt triggering Azure "
                                                 "OpenAI's content management policy.", "prompt",
                                                 "content_filter")) is None
    assert is_content_filter(error("filtered", code="content_filter"))


@pytest.mark.parametrize("headers, wait", [
    ({"retry-after-ms": "1500"}, 1.5),
    ({"Retry-After": "2"}, 2.0),
    ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s"}, 360.0),
    ({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "20ms",
      "x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-requests": "1s"}, 0.02),
    ({"x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "1s"}, None),
    ({}, None),
])
def test_server_directed_waits(headers: dict, wait: float | None) -> None:
    got = retry_after(headers)
    assert got == pytest.approx(wait) if wait is not None else got is None


def test_durations_as_openai_writes_them() -> None:
    assert parse_duration("1h2m3.5s") == pytest.approx(3723.5)
    assert parse_duration("250ms") == pytest.approx(0.25)
    assert parse_duration("soon") is None


def test_the_servers_message_is_kept_and_the_key_masked() -> None:
    class Err(Exception):
        status_code = 401
        body = {"error": {"message": "Incorrect API key provided: sk-proj-abcdefgh12345678. You can find it at "
                                     "the dashboard.", "type": "invalid_request_error", "code": "invalid_api_key"}}

    e = server_error(Err(), secret="sk-proj-abcdefgh12345678")
    assert e.code == "invalid_api_key" and "Incorrect API key" in e.message
    assert "abcdefgh12345678" not in e.describe()
    e = server_error(Err())  # a key-shaped token is masked even when it is not ours
    assert "abcdefgh12345678" not in e.describe()


def test_configured_models_override_the_niche_file_and_need_a_price(monkeypatch) -> None:
    monkeypatch.setenv("XBOT_LLM_MODEL", "llama3.1:8b")
    monkeypatch.setenv("XBOT_LLM_CHEAP_MODEL", "llama3.1:8b")
    with pytest.raises(SettingsError, match="XBOT_LLM_MODEL.*llama3.1:8b.*XBOT_LLM_PRICES"):
        load_settings(PlannerSettings).niche()
    monkeypatch.setenv("XBOT_LLM_PRICES", '{"llama3.1:8b": {"prompt": 0, "completion": 0}}')
    config = load_settings(PlannerSettings).niche()
    assert (config.budget.normal_model, config.budget.cheap_model) == ("llama3.1:8b", "llama3.1:8b")
    assert config.prices["llama3.1:8b"].prompt == 0 and "gpt-4o" in config.prices
    # the review too: a local server answers 404 to the file's review.model (an Ollama planner halted on it)
    assert config.review.model == "llama3.1:8b"


def test_the_review_keeps_the_niche_files_model_unless_the_cheap_model_is_overridden(monkeypatch) -> None:
    monkeypatch.setenv("XBOT_LLM_MODEL", "gpt-4o")
    assert load_settings(PlannerSettings).niche().review.model == load_niche().review.model != "gpt-4o"


def test_only_the_cheap_model_overridden_names_its_own_variable(monkeypatch) -> None:
    monkeypatch.setenv("XBOT_LLM_CHEAP_MODEL", "mistral-small")
    with pytest.raises(SettingsError, match="XBOT_LLM_CHEAP_MODEL"):
        load_settings(PlannerSettings).niche()


def test_a_negative_price_is_refused_at_start(monkeypatch) -> None:
    monkeypatch.setenv("XBOT_LLM_PRICES", '{"m": {"prompt": -1, "completion": 0}}')
    with pytest.raises(SettingsError, match="XBOT_LLM_PRICES"):
        load_settings(PlannerSettings)
