"""The sandbox's offline text endpoint: OpenAI-compatible routes in two modes.

``realistic`` (the default of the sandbox, the demo and the planner benchmark) answers like a real chat model:
it reads the brief from the prompt's prose and adds real models' habits at documented rates, logging every
defect it plants (``sandbox/habits.py``); and the API behaves like real providers': 429 with ``Retry-After``,
500s, 400 for parameters reasoning models refuse, a content filter, answers without ``usage``, slow answers,
``insufficient_quota`` when asked. ``template`` is the template composer (``sandbox/textgen.py``): it reads a
small line convention from the messages (system and user, later lines win) and fills templates with sourced facts:

    kind: post | thread | reply          default: reply if a <tweet> block is present, else post
    content_type: myth_busting           one of the audience's content types (default practical_tip)
    topic: sleep                         one of the audience's topics (default sleep)
    parts: 4                             threads only, clamped to 3..6 (default 4)
    max_chars: 260                       per post or thread part, at most 280; replies at most 220
    <tweet>text replied to</tweet>       replies only: the tweet whose concept the reply takes up
    Facts …:\n[1] fact\n[2] fact          facts listed under a heading that names them: the answer states these
                                         instead of the composer's own bank
    kind: review + <draft>…</draft>      a rubric review (libs/gates/review.py), answered by sandbox/review.py:
                                         a classifier trained on sandbox/review_examples.yaml, not a lookup

Output: the text itself; a thread's parts are separated by a line holding only ``---``. The request's ``seed``
(OpenAI's own field) makes the answer reproducible; without it answers vary. Usage is a rough count (4 characters
a token). Streaming answers ``data: {chunk}`` events ending with ``data: [DONE]``; with
``stream_options.include_usage`` a last chunk carries the usage.

In both modes, as OpenAI and local servers answer:
- ``Authorization: Bearer invalid`` (exactly) → 401 ``invalid_api_key``; any other key is accepted.
- a reasoning model's name (o1, o3-mini, o4-mini, gpt-5 …, or any name holding ``reasoning``, as a deployment
  alias hides the family) with ``max_tokens`` → 400 ``unsupported_parameter``; with a temperature other than 1 →
  400 ``unsupported_value``.
- a ``json_schema`` response format for a model without structured outputs (gpt-3.5*, gpt-4 and gpt-4-turbo,
  o1-mini, o1-preview, any name with ``nojson``) → 400 naming ``response_format``.
- a model whose name holds ``missing`` or ``not-pulled`` → 404 ``model_not_found`` (Ollama: "try pulling it").
- ``POST /admin/llm/faults`` (``Authorization: Bearer <admin_token>``) with ``{"mode": M, "count": N}`` makes the
  next N completions fail that way: ``429`` (with ``Retry-After``), ``500``, ``timeout`` (no answer until the
  client gives up; ``"seconds"`` caps the stall, default 30), ``malformed`` (an unterminated JSON fragment with an
  unfilled placeholder, ``finish_reason: length``), ``401``, ``403``, ``404``, ``insufficient_quota``,
  ``content_filter`` (Azure's 400), ``no_usage`` (an answer without ``usage``), ``slow`` (answers after
  ``"seconds"``). With ``"matching": TEXT`` only requests whose prompt holds TEXT fail (case-insensitive; the
  others pass and do not count): a content filter refuses a text wherever it goes, alone or among others.
  ``{"mode": "none"}`` clears; ``GET /admin/llm/faults`` shows what is pending.
- ``POST /admin/llm/config`` sets the mode, habit rates, API rates, a requests-per-minute limit and
  ``quota_exhausted`` (every call then answers 429 ``insufficient_quota`` until cleared), and ``seed`` (restarts the
  random stream the answers draw from: a test's answers then do not depend on what other tests asked before);
  ``GET`` shows them.
- ``GET /sim/llm/log?after=N`` (the ground-truth token) lists every realistic answer with the defects planted in
  it and every API fault served, from entry N on.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from aiohttp import web

from sandbox.habits import OUR_TWEET, RealisticWriter, composer_from, given_facts, news_in, with_news
from sandbox.review import answer_review, default_reviewer, is_review
from sandbox.textgen import POST_LIMIT, REPLY_LIMIT, CompositionRequest, TextComposer

MODEL_ID = "sandbox-composer"
PART_SEPARATOR = "\n---\n"
MODES = ("realistic", "template")
FAULT_MODES = ("429", "500", "timeout", "malformed", "401", "403", "404", "insufficient_quota", "content_filter",
               "no_usage", "slow")
BAD_KEY = "invalid"

_LINE = re.compile(r"^\s*(kind|content_type|topic|parts|max_chars)\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_TWEET = re.compile(r"<tweet>(.*?)</tweet>", re.DOTALL | re.IGNORECASE)
_KIND_ALIASES = {"post": "post", "single": "post", "tweet": "post", "thread": "thread", "reply": "reply"}
# Reasoning models by their public names, and any deployment whose owner named it "...reasoning..." (an Azure
# deployment or a router alias hides the family from the client, which then learns it from the 400s).
REASONING_MODEL = re.compile(r"(?:^|/)(?:o[1-9](?:$|[-.:])|gpt-5(?:$|[-.:]))|reasoning", re.IGNORECASE)
NO_SCHEMA_MODEL = re.compile(r"(?:^|/)(?:gpt-3\.5|gpt-4(?:$|-(?!o))|o1-mini|o1-preview)|nojson", re.IGNORECASE)
MISSING_MODEL = re.compile(r"missing|not-pulled", re.IGNORECASE)


@dataclass
class FaultPlan:
    mode: str | None = None
    remaining: int = 0
    stall_seconds: float = 30.0
    # Only requests whose prompt holds this text fail (a content filter refuses a text, wherever it is sent).
    matching: str | None = None

    def take(self, prompt: str) -> str | None:
        """The fault for this request, if any, consuming one."""
        if self.mode is None or self.remaining <= 0:
            return None
        if self.matching is not None and self.matching.lower() not in prompt.lower():
            return None
        self.remaining -= 1
        mode = self.mode
        if self.remaining == 0:
            self.mode = None
        return mode


@dataclass
class ApiRates:
    """Realistic mode: how often the API misbehaves, per completion request."""

    rate_limited: float = 0.03  # 429 with Retry-After
    server_error: float = 0.02  # 500
    content_filter: float = 0.01  # 400 content_filter
    no_usage: float = 0.05  # a 200 without usage
    slow: float = 0.03  # a 200 after slow_seconds
    retry_after_seconds: float = 1.0
    slow_seconds: float = 1.5

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown API setting {name!r}; one of {', '.join(sorted(known))}")
            number = float(value)
            if number < 0 or (not name.endswith("seconds") and number > 1):
                raise ValueError(f"{name} out of range: {number}")
            setattr(self, name, number)


@dataclass
class LlmState:
    composer: TextComposer
    writer: RealisticWriter
    mode: str = "realistic"
    faults: FaultPlan = field(default_factory=FaultPlan)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    api: ApiRates = field(default_factory=ApiRates)
    quota_exhausted: bool = False
    rpm_limit: int | None = None
    rate_window_seconds: float = 60.0  # the window rpm_limit counts requests in (a minute, as OpenAI's RPM)
    recent: deque = field(default_factory=deque)  # time.monotonic() of the requests in the window
    log: list[dict[str, Any]] = field(default_factory=list)

    def note(self, **entry: Any) -> None:
        self.log.append({"at": time.time(), **entry})


LLM_STATE = web.AppKey("sandbox_llm_state", LlmState)


def invented_claims(state: LlmState) -> list[str]:
    """Every statistic or study the realistic writer invented so far (its planted ``invented_stat`` defects)."""
    return [d["value"] for entry in state.log for d in entry.get("defects", ()) if d["habit"] == "invented_stat"]


def parse_request(messages: list[dict[str, Any]]) -> CompositionRequest:
    """Read the template convention above from the messages; missing or unusable values fall back to defaults."""
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
        context=m.group(1).strip() if (m := OUR_TWEET.search(text)) else None,
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


def _error(status: int, message: str, *, type_: str | None, code: str | None, param: str | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return web.json_response(body, status=status, headers=headers)


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
    return _error(401, "Incorrect API key provided: invalid. You can find your API key at "
                  "https://platform.openai.com/account/api-keys.", type_="invalid_request_error",
                  code="invalid_api_key")


# ---------------------------------------------------------------- errors as real servers answer them


def _rate_limited(seconds: float, *, limit: int = 500) -> web.Response:
    wait = max(1, math.ceil(seconds))
    return _error(429, f"Rate limit reached for requests per min (RPM): Limit {limit}, Used {limit}. "
                  f"Please try again in {wait}s.", type_="requests", code="rate_limit_exceeded",
                  headers={"retry-after": str(wait), "x-ratelimit-limit-requests": str(limit),
                           "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": f"{wait}s"})


def _server_error() -> web.Response:
    return _error(500, "The server had an error while processing your request. Sorry about that!",
                  type_="server_error", code=None)


def _quota() -> web.Response:
    return _error(429, "You exceeded your current quota, please check your plan and billing details. For more "
                  "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/"
                  "api-errors.", type_="insufficient_quota", code="insufficient_quota")


def _content_filter() -> web.Response:
    return _error(400, "The response was filtered due to the prompt triggering Azure OpenAI's content management "
                  "policy. Please modify your prompt and retry.", type_=None, code="content_filter", param="prompt")


def _not_found(model: str) -> web.Response:
    return _error(404, f'model "{model}" not found, try pulling it first', type_="api_error",
                  code="model_not_found")


def _forbidden() -> web.Response:
    return _error(403, "Project does not have access to this model.", type_="invalid_request_error",
                  code="model_not_allowed")


def _refused_parameters(body: dict[str, Any]) -> web.Response | None:
    """What the named model refuses in this request, as OpenAI words it; None when it takes it."""
    model = str(body.get("model") or "")
    if REASONING_MODEL.search(model):
        if body.get("max_tokens") is not None:
            return _error(400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                          "'max_completion_tokens' instead.", type_="invalid_request_error",
                          code="unsupported_parameter", param="max_tokens")
        temperature = body.get("temperature")
        if temperature is not None and float(temperature) != 1.0:
            return _error(400, f"Unsupported value: 'temperature' does not support {temperature} with this model. "
                          "Only the default (1) value is supported.", type_="invalid_request_error",
                          code="unsupported_value", param="temperature")
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema" \
            and NO_SCHEMA_MODEL.search(model):
        return _error(400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this "
                      "model.", type_="invalid_request_error", code=None, param="response_format")
    return None


def _window(state: LlmState) -> tuple[int, float]:
    """Requests in the window (this one included) and seconds until the oldest leaves it."""
    now, window = time.monotonic(), state.rate_window_seconds
    while state.recent and now - state.recent[0] >= window:
        state.recent.popleft()
    state.recent.append(now)
    return len(state.recent), window - (now - state.recent[0])


def _limit_headers(state: LlmState, used: int, reset: float) -> dict[str, str]:
    limit = state.rpm_limit or 10_000
    return {"x-ratelimit-limit-requests": str(limit), "x-ratelimit-remaining-requests": str(max(0, limit - used)),
            "x-ratelimit-reset-requests": f"{max(0.0, reset):.3f}s" if used >= limit else "1s",
            "x-ratelimit-limit-tokens": "2000000", "x-ratelimit-remaining-tokens": "1999000",
            "x-ratelimit-reset-tokens": "30ms"}


# ---------------------------------------------------------------- completions


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
    model = str(body.get("model") or MODEL_ID)

    prompt = "\n".join(_message_text(m) for m in messages if m.get("role") in ("system", "user", "developer"))
    fault = state.faults.take(prompt)
    if forced := _forced(fault, model):
        state.note(api=fault, model=model)
        return forced
    if fault == "timeout":
        state.note(api="timeout", model=model)
        await _stall(request, state.faults.stall_seconds)
        return _error(504, "Timed out.", type_="server_error", code=None)
    if state.quota_exhausted:
        state.note(api="insufficient_quota", model=model)
        return _quota()
    if MISSING_MODEL.search(model):
        return _not_found(model)
    if (refused := _refused_parameters(body)) is not None:
        state.note(api="unsupported_parameter", model=model)
        return refused
    used, reset = _window(state)
    if state.rpm_limit is not None and used > state.rpm_limit:
        state.recent.pop()  # a refused request does not count
        state.note(api="rate_limited", model=model)
        return _rate_limited(reset, limit=state.rpm_limit)
    realistic = state.mode == "realistic"
    api = state.api
    draw = state.rng.random() if realistic else 1.0
    for name, rate, answer in (("rate_limited", api.rate_limited, lambda: _rate_limited(api.retry_after_seconds)),
                               ("server_error", api.server_error, _server_error),
                               ("content_filter", api.content_filter, _content_filter)):
        if draw < rate:
            state.note(api=name, model=model)
            return answer()
        draw -= rate
    if fault == "slow" or (realistic and state.rng.random() < api.slow):
        state.note(api="slow", model=model)
        await asyncio.sleep(state.faults.stall_seconds if fault == "slow" else api.slow_seconds)
    omit_usage = fault == "no_usage" or (realistic and state.rng.random() < api.no_usage)

    seed = body.get("seed")
    rng = random.Random(seed) if isinstance(seed, int) else random.Random(state.rng.getrandbits(64))
    refusal = None
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if fault == "malformed":
        content, finish_reason = _malformed_content(state.composer, rng), "length"
    elif is_review(prompt):
        content, finish_reason = answer_review(prompt, rng), "stop"
    elif realistic:
        answer = state.writer.answer(messages, rng, response_format=body.get("response_format"))
        content, refusal, finish_reason = answer.content, answer.refusal, "stop"
        state.note(id=completion_id, model=model, kind=answer.brief.kind if answer.brief else None,
                   topic=answer.brief.topic if answer.brief else None,
                   structured=bool(answer.brief and answer.brief.schema_keys),
                   defects=[d.as_dict() for d in answer.defects], content=content if content is not None else refusal)
    else:
        # The prompt's own facts when it lists some (as a model would use them), else the composer's bank.
        request_brief = parse_request(messages)
        given = given_facts(prompt)
        composer = composer_from(given, request_brief.topic) if given else state.composer
        parts = composer.compose(request_brief, rng)
        if request_brief.kind != "reply" and (news := news_in(prompt)):
            parts = with_news(parts, news, request_brief.max_chars)
        content, finish_reason = PART_SEPARATOR.join(parts), "stop"

    prompt_tokens = sum(rough_tokens(_message_text(m)) for m in messages)
    completion_tokens = rough_tokens(content or refusal or "")
    if REASONING_MODEL.search(model):
        completion_tokens += rng.randint(64, 320)  # hidden reasoning, billed as completion tokens
        cap = body.get("max_completion_tokens")
        if isinstance(cap, int) and cap < completion_tokens:
            content, finish_reason, completion_tokens = "", "length", cap  # the cap ran out while reasoning
    if omit_usage:
        state.note(api="no_usage", model=model, id=completion_id)
    usage = None if omit_usage else {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                     "total_tokens": prompt_tokens + completion_tokens}
    created = int(time.time())
    headers = _limit_headers(state, used, reset)

    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
        out: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        }
        if usage is not None:
            out["usage"] = usage
        return web.json_response(out, headers=headers)

    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           **headers})
    await response.prepare(request)

    async def send(choices: list[dict[str, Any]], **extra: Any) -> None:
        chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": choices, **extra}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

    await send([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    for piece in re.findall(r"\S+\s*|\s+", content or ""):  # word by word, whitespace kept, like a token stream
        await send([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
    await send([{"index": 0, "delta": {}, "finish_reason": finish_reason}])
    if usage is not None and (body.get("stream_options") or {}).get("include_usage"):
        await send([], usage=usage)
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


def _forced(fault: str | None, model: str) -> web.Response | None:
    """The answer of a fault forced through the admin API that answers at once."""
    return {
        "429": lambda: _rate_limited(1),
        "500": _server_error,
        "401": _invalid_key,
        "403": _forbidden,
        "404": lambda: _not_found(model),
        "insufficient_quota": _quota,
        "content_filter": _content_filter,
    }.get(fault or "", lambda: None)()


# ---------------------------------------------------------------- admin and ground truth


def _admin_guard(request: web.Request, token: str) -> web.Response | None:
    if _bearer(request) != token:
        return web.json_response({"error": "unauthorized"}, status=401)
    return None


def add_llm_routes(app: web.Application, *, admin_token: str, composer: TextComposer | None = None,
                   seed: int = 0, mode: str = "realistic", sim_token: str | None = None,
                   habits: dict[str, float] | None = None, api: dict[str, float] | None = None,
                   quota_exhausted: bool = False) -> None:
    """Mount /v1/models, /v1/chat/completions, /admin/llm/faults, /admin/llm/config and /sim/llm/log on ``app``."""
    if mode not in MODES:
        raise ValueError(f"unknown text endpoint mode {mode!r}; one of {', '.join(MODES)}")
    composer = composer or TextComposer()
    state = LlmState(composer=composer, writer=RealisticWriter(composer), mode=mode, rng=random.Random(seed),
                     quota_exhausted=quota_exhausted)
    state.writer.rates.update(habits or {})
    state.api.update(api or {})
    # The reviewer is trained now, not on the first review request: that training takes seconds of CPU, which a
    # client would see as one very slow answer (a timeout on a loaded machine).
    default_reviewer()
    app[LLM_STATE] = state
    ground_truth = sim_token or admin_token

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
            plan.mode, plan.remaining, plan.matching = None, 0, None
        elif mode in FAULT_MODES:
            plan.mode, plan.remaining = mode, max(0, int(body.get("count", 1)))
            plan.stall_seconds = float(body.get("seconds", 30.0))
            plan.matching = str(body["matching"]) if body.get("matching") else None
        else:
            return web.json_response({"error": f"unknown mode {mode!r}", "modes": list(FAULT_MODES)}, status=400)
        return web.json_response(_fault_view(plan))

    async def get_faults(request: web.Request) -> web.Response:
        if (refused := _admin_guard(request, admin_token)) is not None:
            return refused
        return web.json_response(_fault_view(request.app[LLM_STATE].faults))

    async def set_config(request: web.Request) -> web.Response:
        if (refused := _admin_guard(request, admin_token)) is not None:
            return refused
        st = request.app[LLM_STATE]
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            if "mode" in body:
                if body["mode"] not in MODES:
                    raise ValueError(f"mode must be one of {', '.join(MODES)}")
                st.mode = body["mode"]
            st.writer.rates.update(body.get("habits") or {})
            st.api.update(body.get("api") or {})
            if "quota_exhausted" in body:
                st.quota_exhausted = bool(body["quota_exhausted"])
            if "seed" in body:  # the answers from here on are the same whatever was asked before
                st.rng = random.Random(int(body["seed"]))
            if "rpm_limit" in body:
                limit = body["rpm_limit"]
                st.rpm_limit = None if limit is None else max(1, int(limit))
            if "rate_window_seconds" in body:
                st.rate_window_seconds = max(0.1, float(body["rate_window_seconds"]))
                st.recent.clear()
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(_config_view(st))

    async def get_config(request: web.Request) -> web.Response:
        if (refused := _admin_guard(request, admin_token)) is not None:
            return refused
        return web.json_response(_config_view(request.app[LLM_STATE]))

    async def get_log(request: web.Request) -> web.Response:
        if (refused := _admin_guard(request, ground_truth)) is not None:
            return refused
        try:
            after = max(0, int(request.query.get("after", "0")))
        except ValueError:
            return web.json_response({"error": "after must be an integer"}, status=400)
        entries = request.app[LLM_STATE].log
        return web.json_response({"entries": entries[after:], "next": len(entries)})

    app.router.add_get("/v1/models", list_models)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/admin/llm/faults", set_faults)
    app.router.add_get("/admin/llm/faults", get_faults)
    app.router.add_post("/admin/llm/config", set_config)
    app.router.add_get("/admin/llm/config", get_config)
    app.router.add_get("/sim/llm/log", get_log)


def _fault_view(plan: FaultPlan) -> dict[str, Any]:
    return {"mode": plan.mode, "remaining": plan.remaining, "seconds": plan.stall_seconds, "matching": plan.matching}


def _config_view(state: LlmState) -> dict[str, Any]:
    return {"mode": state.mode, "habits": state.writer.rates.as_dict(), "api": asdict(state.api),
            "quota_exhausted": state.quota_exhausted, "rpm_limit": state.rpm_limit,
            "rate_window_seconds": state.rate_window_seconds}


def make_llm_app(*, admin_token: str, seed: int = 0, mode: str = "realistic", **options: Any) -> web.Application:
    """The text endpoint alone, for tests and benchmarks; ``options`` as ``add_llm_routes``."""
    app = web.Application()
    add_llm_routes(app, admin_token=admin_token, seed=seed, mode=mode, **options)
    return app
