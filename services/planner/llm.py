"""The LLM behind the planner: the official ``openai`` client, with errors sorted into what to do about them.

- ``LlmPermanentError``: bad key, no permission, unknown model, bad request — retrying cannot help; the caller
  stops planning and alerts.
- rate limit, 5xx, timeout, connection loss: retried here with bounded exponential backoff and jitter;
  ``LlmUnavailable`` when the attempts run out (the item waits for the next run).
- ``LlmMalformedOutput``: the server answered but not with usable text; the caller rewrites and counts it.
  It carries the usage, because a malformed answer is still paid for.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import openai
from openai import AsyncOpenAI
from pydantic import SecretStr

Sleep = Callable[[float], Awaitable[None]]


class LlmError(Exception):
    kind = "error"


class LlmPermanentError(LlmError):
    kind = "permanent"


class LlmUnavailable(LlmError):
    """Transient failures outlasted the retries."""

    kind = "unavailable"


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    request_id: str
    prompt_tokens: int
    completion_tokens: int
    attempts: int
    finish_reason: str | None = None


class LlmMalformedOutput(LlmError):
    kind = "malformed"

    def __init__(self, message: str, completion: Completion | None = None) -> None:
        super().__init__(message)
        self.completion = completion


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^attempt)]; attempt counts from 1."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def classify(err: BaseException) -> type[LlmError]:
    """Which of the three kinds an error of the openai client is."""
    if isinstance(err, (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError,
                        openai.BadRequestError, openai.UnprocessableEntityError)):
        return LlmPermanentError
    if isinstance(err, (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError,
                        openai.APIConnectionError, openai.ConflictError)):
        return LlmUnavailable
    if isinstance(err, openai.APIStatusError):
        return LlmUnavailable if err.status_code >= 500 or err.status_code == 429 else LlmPermanentError
    if isinstance(err, (openai.APIResponseValidationError, ValueError, KeyError, TypeError)):
        return LlmMalformedOutput
    return LlmUnavailable


class TextModel:
    """Chat completions from an OpenAI-compatible server."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: SecretStr,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        # The client's own retries are off: this class retries so that it can count and classify attempts.
        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key.get_secret_value(), timeout=timeout,
                                   max_retries=0)
        self._retry = retry
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.retries = 0  # transient failures retried, over this object's life

    async def close(self) -> None:
        await self._client.close()

    async def complete(self, messages: list[dict[str, str]], *, model: str, max_tokens: int,
                       temperature: float = 0.8) -> Completion:
        last: BaseException | None = None
        for attempt in range(1, self._retry.max_attempts + 1):
            try:
                response = await self._client.chat.completions.create(
                    model=model, messages=messages, max_tokens=max_tokens, temperature=temperature,
                )
            except openai.OpenAIError as err:
                kind = classify(err)
                if kind is LlmPermanentError:
                    raise LlmPermanentError(f"{type(err).__name__}: {_describe(err)}") from err
                if kind is LlmMalformedOutput:
                    raise LlmMalformedOutput(f"unreadable answer: {_describe(err)}") from err
                last = err
                if attempt < self._retry.max_attempts:
                    self.retries += 1
                    await self._sleep(self._retry.delay(attempt, self._rng))
                continue
            return _completion(response, model, attempt)
        raise LlmUnavailable(f"gave up after {self._retry.max_attempts} attempts: {_describe(last)}") from last


def _describe(err: BaseException | None) -> str:
    if err is None:
        return "no error"
    status = getattr(err, "status_code", None)
    # Never the request itself: it carries the key in its headers.
    return f"{type(err).__name__}{f' {status}' if status else ''}"


def _completion(response: object, model: str, attempt: int) -> Completion:
    usage = getattr(response, "usage", None)
    prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
    request_id = str(getattr(response, "id", "") or "")
    used_model = str(getattr(response, "model", "") or model)
    choices = getattr(response, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    text = getattr(message, "content", None) if message is not None else None
    finish = getattr(choices[0], "finish_reason", None) if choices else None
    completion = Completion(
        text=text if isinstance(text, str) else "",
        model=used_model,
        request_id=request_id,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        attempts=attempt,
        finish_reason=finish,
    )
    if not isinstance(text, str) or not text.strip():
        raise LlmMalformedOutput("answer without text", completion)
    if finish == "length":
        raise LlmMalformedOutput("answer cut off at max_tokens", completion)
    if problem := malformed_reason(text):
        raise LlmMalformedOutput(problem, completion)
    return completion


_PLACEHOLDER_RE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def malformed_reason(text: str) -> str | None:
    """Why an answer is not the plain text that was asked for (JSON, template leftovers), or None."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")) or stripped.startswith("```"):
        return "answer is structured data, not plain text"
    if _PLACEHOLDER_RE.search(stripped):
        return "answer has an unfilled placeholder"
    return None
