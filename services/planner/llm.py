"""The LLM behind the planner: the official ``openai`` client against any OpenAI-compatible server, with every
answer a real provider gives sorted into what to do about it.

- ``LlmPermanentError`` (401, 403, a 404 for the model) and its ``LlmQuotaExhausted`` (429 ``insufficient_quota``):
  no call can succeed until the operator fixes something; drafting halts and alerts with the cause.
- ``LlmRequestRejected``: this request was refused (a content filter, any other 400/422) — that one item is
  dropped with a recorded rejection, drafting carries on.
- 429, 5xx, 408/409, lost connections: retried here (tenacity) honouring ``Retry-After`` /
  ``retry-after-ms`` and the ``x-ratelimit-*`` headers, else full-jitter exponential backoff; ``LlmUnavailable``
  when the attempts run out (the rest of the run waits for the next one).
- ``LlmTimedOut``: no answer within the timeout. Not retried here: the server may have done (and billed) the
  work, so the caller charges the reservation before it tries again.
- A 400 that names a parameter the model does not take (reasoning models refuse ``max_tokens`` and any
  temperature; older models refuse a JSON schema) adapts the request and is sent again at once; what was learned
  is remembered per model (``ModelProfile``) for the life of the object.
- ``LlmMalformedOutput``: the server answered but not with usable text; it carries the usage (it is paid for).

The server's status, error code and message are logged with the key masked; the request itself never is.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import openai
from openai import AsyncOpenAI
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

logger = logging.getLogger("xbot.planner.llm")

Sleep = Callable[[float], Awaitable[None]]

# o1, o3-mini, o4-mini, gpt-5, gpt-5-mini, gpt-5.1 ... also behind a router prefix ("openai/o3-mini").
REASONING_MODEL_RE = re.compile(r"(?:^|/)(?:o[1-9](?:$|[-.:])|gpt-5(?:$|[-.:]))", re.IGNORECASE)
# A server may ask for a wait this long at most before the run gives up on it (the next run tries again).
MAX_SERVER_WAIT = timedelta(seconds=60)
# Adapting a request to what a model accepts takes at most this many 400s per call.
MAX_ADAPTATIONS = 3
# Reasoning models bill hidden reasoning tokens against the completion cap: this many times the visible text's.
REASONING_TOKEN_FACTOR = 4


class LlmError(Exception):
    kind = "error"


class LlmPermanentError(LlmError):
    """Nothing will work until the operator acts: halt drafting and alert. ``cause`` names what to fix."""

    kind = "permanent"

    def __init__(self, message: str, *, cause: str = "refused", status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause
        self.status = status
        self.code = code


class LlmQuotaExhausted(LlmPermanentError):
    """429 ``insufficient_quota``: the account has no credit; retrying only burns time."""


class LlmUnavailable(LlmError):
    """Transient failures outlasted the retries (or the server asked for a longer wait than we give it)."""

    kind = "unavailable"


class LlmTimedOut(LlmUnavailable):
    """No answer within the timeout; the server may still have done and billed the work."""


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    request_id: str
    prompt_tokens: int
    completion_tokens: int
    attempts: int
    finish_reason: str | None = None
    # False when the server sent no usage: the caller charges the call's reservation instead.
    usage_reported: bool = True
    # True when the answer was asked for as JSON of the given schema (and not as plain text).
    structured: bool = False


class LlmMalformedOutput(LlmError):
    """An answer that is no usable text (paid for: it carries the completion); rewritten."""

    kind = "malformed"

    def __init__(self, message: str, completion: Completion | None = None, *, gate: str = "malformed") -> None:
        super().__init__(message)
        self.completion = completion
        self.gate = gate


class LlmRequestRejected(LlmError):
    """The server refused this one request (content filter, a 400 no adaptation fixes): drop the item."""

    kind = "rejected"

    def __init__(self, message: str, *, gate: str, completion: Completion | None = None) -> None:
        super().__init__(message)
        self.gate = gate
        self.completion = completion


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^attempt)]; attempt counts from 1."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class ModelProfile:
    """What a model accepts: learned from its name, then from the 400s its server answers."""

    token_parameter: str = "max_tokens"  # reasoning models: "max_completion_tokens"
    temperature: bool = True  # reasoning models take only the default
    structured_output: bool = True  # a JSON schema in response_format

    @classmethod
    def for_name(cls, model: str) -> "ModelProfile":
        if is_reasoning_model(model):
            return cls(token_parameter="max_completion_tokens", temperature=False)
        return cls()


def is_reasoning_model(model: str) -> bool:
    return REASONING_MODEL_RE.search(model) is not None


@dataclass(frozen=True)
class ServerError:
    """The parts of an error answer worth logging (the message with any key masked)."""

    status: int | None
    code: str | None
    type: str | None
    param: str | None
    message: str

    def describe(self) -> str:
        parts = [f"HTTP {self.status}" if self.status else None, self.code or self.type, self.message]
        return " ".join(p for p in parts if p)


_KEY_LIKE = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*]{8,}")


def server_error(err: BaseException, *, secret: str = "") -> ServerError:
    """The server's own words from an openai error, with the key (and anything key-shaped) masked."""
    body = getattr(err, "body", None)
    info: Mapping[str, Any] = {}
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        info = inner if isinstance(inner, Mapping) else {"message": str(inner)}
    message = str(info.get("message") or getattr(err, "message", "") or type(err).__name__)
    if secret and len(secret) >= 4:
        message = message.replace(secret, "***")
    message = _KEY_LIKE.sub(lambda m: m.group(1) + "-***", message)[:300]
    code = info.get("code") or getattr(err, "code", None)
    return ServerError(
        status=getattr(err, "status_code", None),
        code=str(code) if code else None,
        type=str(info.get("type")) if info.get("type") else None,
        param=str(info.get("param")) if info.get("param") else None,
        message=message,
    )


def adapted_profile(profile: ModelProfile, error: ServerError) -> ModelProfile | None:
    """The profile that avoids what a 400 complains about, or None when the 400 is about something else."""
    text = f"{error.param or ''} {error.message}".lower()
    if error.param == "response_format" or "response_format" in text or "json_schema" in text:
        return replace(profile, structured_output=False) if profile.structured_output else None
    unsupported = any(w in text for w in ("unsupported", "not supported", "unrecognized", "unknown", "does not support",
                                          "only the default", "invalid"))
    if not unsupported:
        return None
    if error.param == "temperature" or "temperature" in text:
        return replace(profile, temperature=False) if profile.temperature else None
    if error.param == "max_tokens" or "'max_tokens'" in text or "max_tokens " in text:
        if profile.token_parameter == "max_tokens":
            return replace(profile, token_parameter="max_completion_tokens")
        return None
    if error.param == "max_completion_tokens" or "max_completion_tokens" in text:
        if profile.token_parameter == "max_completion_tokens":
            return replace(profile, token_parameter="max_tokens")
    return None


def is_content_filter(error: ServerError) -> bool:
    text = f"{error.code or ''} {error.message}".lower()
    return "content_filter" in text or "content management policy" in text or "content_policy" in text


# ---------------------------------------------------------------- server-directed waits


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a 429/503 asks us to wait: ``retry-after-ms``, ``retry-after`` (seconds or an HTTP date), else the
    reset time of an ``x-ratelimit-*`` budget that is used up."""
    if not headers:
        return None
    h = {k.lower(): v for k, v in headers.items()}
    if (ms := _number(h.get("retry-after-ms"))) is not None:
        return ms / 1000
    if (value := h.get("retry-after")) is not None:
        if (seconds := _number(value)) is not None:
            return seconds
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    return exhausted_budget_reset(h)


def exhausted_budget_reset(headers: Mapping[str, str]) -> float | None:
    """When an ``x-ratelimit-remaining-{requests,tokens}`` is 0: seconds until its ``x-ratelimit-reset-*``."""
    waits = []
    for budget in ("requests", "tokens"):
        remaining = _number(headers.get(f"x-ratelimit-remaining-{budget}"))
        reset = parse_duration(headers.get(f"x-ratelimit-reset-{budget}"))
        if remaining is not None and remaining <= 0 and reset is not None:
            waits.append(reset)
    return max(waits) if waits else None


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(value: str | None) -> float | None:
    """OpenAI's reset durations: "1s", "6m0s", "20ms", "1h2m3.5s"; a bare number is seconds."""
    if value is None:
        return None
    value = value.strip()
    if (n := _number(value)) is not None:
        return n
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(a + b for a, b in parts) != value:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(a) * scale[b] for a, b in parts)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None and value.strip() else None
    except ValueError:
        return None


# ---------------------------------------------------------------- the client


def _transient(err: BaseException) -> bool:
    if isinstance(err, openai.APITimeoutError):
        return False  # the caller, which holds the budget, charges it and tries again
    if isinstance(err, openai.APIConnectionError):
        return True
    if isinstance(err, openai.APIStatusError):
        if err.status_code == 429:
            return not _is_quota(server_error(err))
        return err.status_code >= 500 or err.status_code in (408, 409)
    return False


class _ServerWaitTooLong(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the server asks to wait {seconds:.0f} s")
        self.seconds = seconds


class TextModel:
    """Chat completions from an OpenAI-compatible server. Keep one object for the service's life: what it learns
    about each model (``profiles``) and the rate-limit state live in it."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: SecretStr,
        timeout: timedelta | float = timedelta(seconds=30),
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        max_server_wait: timedelta = MAX_SERVER_WAIT,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout if isinstance(timeout, timedelta) else timedelta(seconds=float(timeout))
        self._secret = api_key.get_secret_value()
        # The client's own retries are off: it would retry insufficient_quota, cannot be told how long a wait is
        # too long, and hides the attempts from our metrics.
        self._client = AsyncOpenAI(base_url=base_url, api_key=self._secret, timeout=self.timeout.total_seconds(),
                                   max_retries=0)
        self._retry = retry
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._max_wait = max_server_wait.total_seconds()
        self._not_before = 0.0  # time.monotonic() before which the rate-limit headers say to hold calls
        self.profiles: dict[str, ModelProfile] = {}
        self.retries = 0  # transient failures retried, over this object's life
        self.adaptations = 0  # requests sent again in another shape after a 400

    async def close(self) -> None:
        await self._client.close()

    def profile(self, model: str) -> ModelProfile:
        return self.profiles.setdefault(model, ModelProfile.for_name(model))

    def completion_cap(self, model: str, max_tokens: int) -> int:
        """The completion-token cap sent (and reserved) for ``max_tokens`` of visible text. Reasoning models spend
        hidden reasoning tokens from the same cap (billed as completion tokens), so they get room for them: known
        names, and a deployment alias once its 400s showed it is one (it then takes max_completion_tokens)."""
        reasoning = is_reasoning_model(model) or self.profile(model).token_parameter == "max_completion_tokens"
        return max_tokens * REASONING_TOKEN_FACTOR if reasoning else max_tokens

    async def complete(self, messages: list[dict[str, str]], *, model: str, max_tokens: int,
                       temperature: float = 0.8, schema: Mapping[str, Any] | None = None) -> Completion:
        """One answer. ``schema``: a named JSON schema (``{"name", "schema", "strict"}``) the answer should follow,
        sent as a ``json_schema`` response format while the model accepts one (``Completion.structured``)."""
        for _ in range(MAX_ADAPTATIONS + 1):
            profile = self.profile(model)
            request: dict[str, Any] = {"model": model, "messages": messages,
                                       profile.token_parameter: self.completion_cap(model, max_tokens)}
            if profile.temperature:
                request["temperature"] = temperature
            structured = schema is not None and profile.structured_output
            if structured:
                request["response_format"] = {"type": "json_schema", "json_schema": dict(schema or {})}
            try:
                raw, attempts = await self._with_retries(request)
            except openai.BadRequestError as err:
                error = self._log_error(model, err)
                better = adapted_profile(profile, error)
                if better is None:
                    raise _rejected(error) from err
                self.profiles[model] = better
                self.adaptations += 1
                logger.warning("LLM model %s refused a parameter (%s); from now on it is sent %s",
                               model, error.describe(), better)
                continue
            return _completion(raw, model, attempts, structured=structured)
        raise LlmRequestRejected(f"model {model} kept refusing the request's parameters", gate="llm_request")

    async def _with_retries(self, request: dict[str, Any]) -> tuple[Any, int]:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(_transient),
            sleep=self._sleep_counted,
            reraise=True,
        )
        attempts = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    await self._paced()
                    raw = await self._client.chat.completions.with_raw_response.create(**request)
                    self._remember_limits(raw.headers)
                    return raw.parse(), attempts
        except openai.BadRequestError:
            raise  # complete() adapts the request or drops the item
        except _ServerWaitTooLong as err:
            raise LlmUnavailable(f"{err}, more than the {self._max_wait:.0f} s we wait; the next run tries "
                                 "again") from None
        except openai.APITimeoutError as err:
            raise LlmTimedOut(f"no answer within {self.timeout.total_seconds():g} s "
                              "(XBOT_LLM_TIMEOUT_SECONDS)") from err
        except openai.APIStatusError as err:
            raise self._classified(err, self._log_error(request["model"], err), attempts) from err
        except openai.APIConnectionError as err:
            raise LlmUnavailable(f"gave up after {attempts} attempts: cannot reach {self.base_url} "
                                 f"({type(err).__name__})") from err
        except openai.APIResponseValidationError as err:
            raise LlmMalformedOutput(f"unreadable answer: {type(err).__name__}") from err
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        err = state.outcome.exception() if state.outcome else None
        headers = getattr(getattr(err, "response", None), "headers", None)
        asked = retry_after(headers) if headers is not None else None
        if asked is None:
            return self._retry.delay(state.attempt_number, self._rng)
        if asked > self._max_wait:
            raise _ServerWaitTooLong(asked)
        return asked

    async def _sleep_counted(self, seconds: float) -> None:
        self.retries += 1
        await self._sleep(seconds)

    async def _paced(self) -> None:
        wait = self._not_before - time.monotonic()
        if wait > 0:
            await self._sleep(min(wait, self._max_wait))

    def _remember_limits(self, headers: Mapping[str, str]) -> None:
        reset = exhausted_budget_reset({k.lower(): v for k, v in headers.items()})
        if reset is not None:
            self._not_before = time.monotonic() + min(reset, self._max_wait)

    def _log_error(self, model: str, err: openai.APIStatusError) -> ServerError:
        error = server_error(err, secret=self._secret)
        logger.warning("LLM error from %s for model %s: %s", self.base_url, model, error.describe())
        return error

    def _classified(self, err: openai.APIStatusError, error: ServerError, attempts: int) -> LlmError:
        status = err.status_code
        if _is_quota(error):
            return LlmQuotaExhausted(
                f"insufficient_quota: {error.describe()} (add credit or raise the spending limit at the provider)",
                cause="insufficient_quota", status=status, code=error.code)
        if status == 401:
            return LlmPermanentError(f"authentication failed: {error.describe()} (check XBOT_LLM_API_KEY)",
                                     cause="authentication", status=status, code=error.code)
        if status == 403:
            return LlmPermanentError(f"permission denied: {error.describe()} (the key may not use this model or "
                                     "region; check XBOT_LLM_API_KEY and XBOT_LLM_MODEL)",
                                     cause="permission", status=status, code=error.code)
        if status == 404:
            return LlmPermanentError(f"model or endpoint not found: {error.describe()} (check XBOT_LLM_MODEL, "
                                     "XBOT_LLM_CHEAP_MODEL (the review's model too) and XBOT_LLM_BASE_URL; with "
                                     "Ollama, pull the model)",
                                     cause="model_not_found", status=status, code=error.code)
        if _transient(err):
            return LlmUnavailable(f"gave up after {attempts} attempts: {error.describe()}")
        return _rejected(error)


def _is_quota(error: ServerError) -> bool:
    return error.status == 429 and "insufficient_quota" in (error.code or "", error.type or "")


def _rejected(error: ServerError) -> LlmRequestRejected:
    gate = "content_filter" if is_content_filter(error) else "llm_request"
    return LlmRequestRejected(f"the server refused the request: {error.describe()}", gate=gate)


def _completion(response: Any, model: str, attempts: int, *, structured: bool) -> Completion:
    usage = getattr(response, "usage", None)
    prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
    request_id = str(getattr(response, "id", "") or "")
    used_model = str(getattr(response, "model", "") or model)
    choices = getattr(response, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    text = getattr(message, "content", None) if message is not None else None
    refusal = getattr(message, "refusal", None) if message is not None else None
    finish = getattr(choices[0], "finish_reason", None) if choices else None
    completion = Completion(
        text=text if isinstance(text, str) else "",
        model=used_model,
        request_id=request_id,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        attempts=attempts,
        finish_reason=finish,
        usage_reported=usage is not None and prompt_tokens + completion_tokens > 0,
        structured=structured,
    )
    if finish == "content_filter":
        raise LlmRequestRejected("the answer was withheld by the server's content filter", gate="content_filter",
                                 completion=completion)
    if isinstance(refusal, str) and refusal.strip():
        # Structured outputs carry a model's refusal here instead of in the content: rewritten like any refusal.
        raise LlmMalformedOutput(f"the model refused: {refusal.strip()[:160]}", completion, gate="refusal")
    if not isinstance(text, str) or not text.strip():
        raise LlmMalformedOutput("answer without text", completion)
    if finish == "length":
        raise LlmMalformedOutput("answer cut off at the token limit", completion)
    return completion
