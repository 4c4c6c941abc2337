"""The sandbox's offline text endpoint: OpenAI-compatible routes backed by the template composer.

This is not a language model. ``/v1/chat/completions`` reads a small, line-based convention from the messages
(system and user, later lines win) and fills templates with sourced health facts (``sandbox/textgen.py``):

    kind: post | thread | reply          default: reply if a <tweet> block is present, else post
    content_type: myth_busting           one of the audience's content types (default practical_tip)
    topic: sleep                         one of the audience's topics (default sleep)
    parts: 4                             threads only, clamped to 3..6 (default 4)
    max_chars: 260                       per post or thread part, at most 280; replies at most 220
    <tweet>text replied to</tweet>       replies only: the tweet whose concept the reply takes up

Output: the text itself; a thread's parts are separated by a line holding only ``---``. The request's ``seed``
(OpenAI's own field) makes the answer reproducible; without it answers vary. Usage is a rough count (4 characters
a token). Streaming answers ``data: {chunk}`` events ending with ``data: [DONE]``; with
``stream_options.include_usage`` a last chunk carries the usage.

Errors, as OpenAI answers them:
- ``Authorization: Bearer invalid`` (exactly) → 401 ``invalid_api_key``; any other key is accepted.
- ``POST /admin/llm/faults`` (``Authorization: Bearer <admin_token>``) with ``{"mode": "429"|"500"|"timeout"|
  "malformed", "count": N}`` makes the next N completions fail that way: 429 rate limit, 500 server error, no answer
  until the client gives up (``"seconds"`` caps the stall, default 30), or a 200 whose content breaks the contract
  (an unterminated JSON fragment with an unfilled placeholder, longer than any limit, ``finish_reason: length``).
  ``{"mode": "none"}`` clears; ``GET /admin/llm/faults`` shows what is pending.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.textgen import POST_LIMIT, REPLY_LIMIT, CompositionRequest, TextComposer

MODEL_ID = "sandbox-composer"
PART_SEPARATOR = "\n---\n"
FAULT_MODES = ("429", "500", "timeout", "malformed")
BAD_KEY = "invalid"

_LINE = re.compile(r"^\s*(kind|content_type|topic|parts|max_chars)\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_TWEET = re.compile(r"<tweet>(.*?)</tweet>", re.DOTALL | re.IGNORECASE)
_KIND_ALIASES = {"post": "post", "single": "post", "tweet": "post", "thread": "thread", "reply": "reply"}


@dataclass
class FaultPlan:
    mode: str | None = None
    remaining: int = 0
    stall_seconds: float = 30.0

    def take(self) -> str | None:
        """The fault for this request, if any, consuming one."""
        if self.mode is None or self.remaining <= 0:
            return None
        self.remaining -= 1
        mode = self.mode
        if self.remaining == 0:
            self.mode = None
        return mode


@dataclass
class LlmState:
    composer: TextComposer
    faults: FaultPlan = field(default_factory=FaultPlan)
    rng: random.Random = field(default_factory=lambda: random.Random(0))


LLM_STATE = web.AppKey("sandbox_llm_state", LlmState)


def parse_request(messages: list[dict[str, Any]]) -> CompositionRequest:
    """Read the convention above from the messages; missing or unusable values fall back to defaults."""
    text = "\n".join(_message_text(m) for m in messages if m.get("role") in ("system", "user", "developer"))
    values: dict[str, str] = {}
    for key, value in _LINE.findall(text):
        values[key.lower()] = value.strip().strip("\"'`").lower()
    tweets = _TWEET.findall(text)
    tweet = tweets[-1].strip() if tweets else None
    kind = _KIND_ALIASES.get(values.get("kind", ""), "reply" if tweet else "post")
    limit = REPLY_LIMIT if kind == "reply" else POST_LIMIT
    return CompositionRequest(
        kind=kind,
        content_type=values.get("content_type", "practical_tip"),
        topic=values.get("topic", "sleep"),
        parts=max(3, min(6, _int(values.get("parts"), 4))),
        max_chars=max(40, min(limit, _int(values.get("max_chars"), limit))),
        tweet=tweet,
    )


def rough_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _error(status: int, message: str, *, type_: str, code: str | None) -> web.Response:
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return web.json_response(body, status=status)


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def _malformed_content(composer: TextComposer, rng: random.Random) -> str:
    sample = composer.post(content_type="practical_tip", topic="sleep", rng=rng)
    return '{"draft": "' + sample[:60] + " {fact} " + ("lorem " * 60)


async def _stall(request: web.Request, seconds: float) -> None:
    """Hold the request open until the client gives up (or ``seconds`` pass) so its timeout fires."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.05)


async def list_models(request: web.Request) -> web.Response:
    if _bearer(request) == BAD_KEY:
        return _invalid_key()
    model = {"id": MODEL_ID, "object": "model", "created": 1_700_000_000, "owned_by": "xbot-sandbox"}
    return web.json_response({"object": "list", "data": [model]})


def _invalid_key() -> web.Response:
    return _error(401, "Incorrect API key provided: invalid.", type_="invalid_request_error", code="invalid_api_key")


async def chat_completions(request: web.Request) -> web.StreamResponse:
    state = request.app[LLM_STATE]
    if _bearer(request) == BAD_KEY:
        return _invalid_key()
    try:
        body = await request.json()
        messages = body["messages"]
        if not isinstance(messages, list):
            raise TypeError("messages must be a list")
    except (ValueError, KeyError, TypeError) as exc:
        return _error(400, f"Invalid request body: {exc}", type_="invalid_request_error", code=None)

    fault = state.faults.take()
    if fault == "429":
        response = _error(429, "Rate limit reached for requests. Please try again in 1s.",
                          type_="requests", code="rate_limit_exceeded")
        response.headers["retry-after"] = "1"
        return response
    if fault == "500":
        return _error(500, "The server had an error while processing your request.", type_="server_error",
                      code=None)
    if fault == "timeout":
        await _stall(request, state.faults.stall_seconds)
        return _error(504, "Timed out.", type_="server_error", code=None)

    seed = body.get("seed")
    rng = random.Random(seed) if isinstance(seed, int) else random.Random(state.rng.getrandbits(64))
    if fault == "malformed":
        content, finish_reason = _malformed_content(state.composer, rng), "length"
    else:
        parts = state.composer.compose(parse_request(messages), rng)
        content, finish_reason = PART_SEPARATOR.join(parts), "stop"

    model = body.get("model") or MODEL_ID
    prompt_tokens = sum(rough_tokens(_message_text(m)) for m in messages)
    completion_tokens = rough_tokens(content)
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
             "total_tokens": prompt_tokens + completion_tokens}
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())

    if not body.get("stream"):
        return web.json_response({
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "logprobs": None, "finish_reason": finish_reason}],
            "usage": usage,
        })

    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)

    async def send(choices: list[dict[str, Any]], **extra: Any) -> None:
        chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": choices, **extra}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

    await send([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    for piece in re.findall(r"\S+\s*|\s+", content):  # word by word, whitespace kept, like a token stream
        await send([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
    await send([{"index": 0, "delta": {}, "finish_reason": finish_reason}])
    if (body.get("stream_options") or {}).get("include_usage"):
        await send([], usage=usage)
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


def _admin_guard(request: web.Request, admin_token: str) -> web.Response | None:
    if _bearer(request) != admin_token:
        return web.json_response({"error": "unauthorized"}, status=401)
    return None


def add_llm_routes(app: web.Application, *, admin_token: str, composer: TextComposer | None = None,
                   seed: int = 0) -> None:
    """Mount /v1/models, /v1/chat/completions and /admin/llm/faults on ``app``."""
    app[LLM_STATE] = LlmState(composer=composer or TextComposer(), rng=random.Random(seed))

    async def set_faults(request: web.Request) -> web.Response:
        if (refused := _admin_guard(request, admin_token)) is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "body must be JSON"}, status=400)
        mode = str(body.get("mode", "none"))
        plan = request.app[LLM_STATE].faults
        if mode == "none":
            plan.mode, plan.remaining = None, 0
        elif mode in FAULT_MODES:
            plan.mode, plan.remaining = mode, max(0, int(body.get("count", 1)))
            plan.stall_seconds = float(body.get("seconds", 30.0))
        else:
            return web.json_response({"error": f"unknown mode {mode!r}", "modes": list(FAULT_MODES)}, status=400)
        return web.json_response(_fault_view(plan))

    async def get_faults(request: web.Request) -> web.Response:
        if (refused := _admin_guard(request, admin_token)) is not None:
            return refused
        return web.json_response(_fault_view(request.app[LLM_STATE].faults))

    app.router.add_get("/v1/models", list_models)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/admin/llm/faults", set_faults)
    app.router.add_get("/admin/llm/faults", get_faults)


def _fault_view(plan: FaultPlan) -> dict[str, Any]:
    return {"mode": plan.mode, "remaining": plan.remaining, "seconds": plan.stall_seconds}


def make_llm_app(*, admin_token: str, seed: int = 0) -> web.Application:
    """The text endpoint alone, for tests and for running it without the rest of the sandbox."""
    app = web.Application()
    add_llm_routes(app, admin_token=admin_token, seed=seed)
    return app
