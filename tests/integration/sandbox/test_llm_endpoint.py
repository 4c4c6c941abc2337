"""The offline text endpoint, called by the real ``openai`` client over loopback HTTP."""

from __future__ import annotations

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestServer
from openai import AsyncOpenAI

from sandbox.audience import AudienceModel
from sandbox.llm import make_llm_app

ADMIN = "admin-secret"


@pytest.fixture
async def server():
    srv = TestServer(make_llm_app(admin_token=ADMIN, seed=3, mode="template"), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


def client_for(server: TestServer, *, api_key: str = "sandbox", timeout: float = 10.0) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=str(server.make_url("/v1")), api_key=api_key, max_retries=0, timeout=timeout)


async def inject(server: TestServer, fault: dict, *, token: str = ADMIN) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.post(server.make_url("/admin/llm/faults"), json=fault,
                             headers={"Authorization": f"Bearer {token}"}) as resp:
            return resp.status


def prompt(*lines: str) -> list[dict]:
    return [
        {"role": "system", "content": "You write posts for a health account."},
        {"role": "user", "content": "\n".join(lines)},
    ]


async def test_models_lists_the_composer(server):
    models = await client_for(server).models.list()
    assert [m.id for m in models.data] == ["sandbox-composer"]


async def test_completion_honours_kind_type_topic_and_length(server):
    client = client_for(server)
    result = await client.chat.completions.create(
        model="sandbox-composer",
        messages=prompt("kind: post", "content_type: myth_busting", "topic: hydration", "max_chars: 260"),
    )
    text = result.choices[0].message.content
    assert 0 < len(text) <= 260
    choice = AudienceModel(0).infer_choice(text, hour=9, format="single")
    assert (choice.content_type, choice.topic) == ("myth_busting", "hydration")
    assert result.choices[0].finish_reason == "stop"
    assert result.usage.completion_tokens >= len(text) // 6
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert result.usage.prompt_tokens > 0


async def test_thread_parts_are_separated_by_dashes(server):
    result = await client_for(server).chat.completions.create(
        model="sandbox-composer",
        messages=prompt("kind: thread", "content_type: framework", "topic: exercise", "parts: 5"),
    )
    parts = result.choices[0].message.content.split("\n---\n")
    assert len(parts) == 5
    assert all(0 < len(p) <= 280 for p in parts)


async def test_reply_takes_up_the_tweet(server):
    result = await client_for(server).chat.completions.create(
        model="sandbox-composer",
        messages=prompt("Write a reply.", "<tweet>Cutting out caffeine after lunch fixed my sleep.</tweet>"),
    )
    reply = result.choices[0].message.content
    assert len(reply) <= 220 and "http" not in reply and "#" not in reply
    assert "caffeine" in reply.lower() or "sleep" in reply.lower()


async def test_same_seed_same_text(server):
    client = client_for(server)
    messages = prompt("kind: post", "topic: stress")
    a = await client.chat.completions.create(model="m", messages=messages, seed=42)
    b = await client.chat.completions.create(model="m", messages=messages, seed=42)
    assert a.choices[0].message.content == b.choices[0].message.content


async def test_streaming_yields_the_text_and_usage(server):
    client = client_for(server)
    stream = await client.chat.completions.create(
        model="sandbox-composer",
        messages=prompt("kind: post", "content_type: data_insight", "topic: heart_health"),
        stream=True,
        stream_options={"include_usage": True},
        seed=7,
    )
    pieces, usage, finish = [], None, None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
    streamed = "".join(pieces)
    assert len(pieces) > 3
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0
    whole = await client.chat.completions.create(
        model="sandbox-composer",
        messages=prompt("kind: post", "content_type: data_insight", "topic: heart_health"),
        seed=7,
    )
    assert streamed == whole.choices[0].message.content


async def test_streaming_wire_format_ends_with_done(server):
    async with aiohttp.ClientSession() as http:
        async with http.post(server.make_url("/v1/chat/completions"),
                             json={"model": "m", "messages": prompt("kind: post"), "stream": True}) as resp:
            raw = (await resp.read()).decode()
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"


@pytest.mark.parametrize(
    ("mode", "error"),
    [("429", openai.RateLimitError), ("500", openai.InternalServerError)],
)
async def test_injected_http_faults_surface_as_client_errors(server, mode, error):
    client = client_for(server)
    assert await inject(server, {"mode": mode, "count": 2}) == 200
    for _ in range(2):
        with pytest.raises(error):
            await client.chat.completions.create(model="m", messages=prompt("kind: post"))
    ok = await client.chat.completions.create(model="m", messages=prompt("kind: post"))
    assert ok.choices[0].message.content


async def test_injected_stall_times_the_client_out(server):
    assert await inject(server, {"mode": "timeout", "count": 1, "seconds": 5}) == 200
    with pytest.raises(openai.APITimeoutError):
        await client_for(server, timeout=0.3).chat.completions.create(model="m", messages=prompt("kind: post"))


async def test_injected_malformed_output_breaks_the_contract(server):
    assert await inject(server, {"mode": "malformed", "count": 1}) == 200
    result = await client_for(server).chat.completions.create(model="m", messages=prompt("kind: post"))
    content = result.choices[0].message.content
    assert result.choices[0].finish_reason == "length"
    assert len(content) > 280 and "{fact}" in content


async def test_bad_key_is_refused_like_openai(server):
    with pytest.raises(openai.AuthenticationError):
        await client_for(server, api_key="invalid").chat.completions.create(model="m", messages=prompt("kind: post"))


async def test_fault_admin_needs_the_token(server):
    assert await inject(server, {"mode": "500", "count": 1}, token="wrong") == 401
    ok = await client_for(server).chat.completions.create(model="m", messages=prompt("kind: post"))
    assert ok.choices[0].message.content
    assert await inject(server, {"mode": "teapot", "count": 1}) == 400


# ---------------------------------------------------------------- realistic mode

QUIET = {"rate_limited": 0, "server_error": 0, "content_filter": 0, "no_usage": 0, "slow": 0}


@pytest.fixture
async def realistic():
    srv = TestServer(make_llm_app(admin_token=ADMIN, seed=3, api=QUIET), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


async def ground_truth(server: TestServer, token: str = ADMIN) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/sim/llm/log"), headers={"Authorization": f"Bearer {token}"}) as r:
            return r.status, await r.json()


async def test_realistic_answers_are_logged_with_their_planted_defects(realistic):
    client = client_for(realistic)
    for _ in range(30):
        await client.chat.completions.create(model="gpt-4o-mini", messages=prompt(
            "Write one post of at most 260 characters.", "Topic: gut health. Give one specific, safe habit."))
    status, body = await ground_truth(realistic)
    answers = [e for e in body["entries"] if "defects" in e]
    assert status == 200 and len(answers) == 30
    assert all(e["topic"] == "gut_health" and e["kind"] == "post" for e in answers)
    for e in answers:  # every planted marker is in the answer it was planted in
        for d in e["defects"]:
            if d["check"] == "contains":
                assert d["value"] in e["content"], d
    assert sum(1 for e in answers if e["defects"]) >= 5
    assert (await ground_truth(realistic, token="wrong"))[0] == 401


@pytest.mark.parametrize("model, extra, param", [
    ("o3-mini", {"max_tokens": 100}, "max_tokens"),
    ("gpt-5-mini", {"max_completion_tokens": 400, "temperature": 0.7}, "temperature"),
    ("gpt-3.5-turbo", {"response_format": {"type": "json_schema", "json_schema": {"name": "post", "schema": {}}}},
     "response_format"),
])
async def test_parameters_a_model_refuses_answer_400_as_openai_does(realistic, model, extra, param):
    with pytest.raises(openai.BadRequestError) as info:
        await client_for(realistic).chat.completions.create(model=model, messages=prompt("Write a post."), **extra)
    assert info.value.param == param


async def test_quota_and_missing_models_answer_like_real_servers(realistic):
    async with aiohttp.ClientSession() as http:
        r = await http.post(realistic.make_url("/admin/llm/config"), json={"quota_exhausted": True},
                            headers={"Authorization": f"Bearer {ADMIN}"})
        assert r.status == 200
    with pytest.raises(openai.RateLimitError) as info:
        await client_for(realistic).chat.completions.create(model="gpt-4o", messages=prompt("Write a post."))
    assert info.value.code == "insufficient_quota"
    async with aiohttp.ClientSession() as http:
        await http.post(realistic.make_url("/admin/llm/config"), json={"quota_exhausted": False},
                        headers={"Authorization": f"Bearer {ADMIN}"})
        bad = await http.post(realistic.make_url("/admin/llm/config"), json={"habits": {"preamble": 2}},
                              headers={"Authorization": f"Bearer {ADMIN}"})
        assert bad.status == 400
    with pytest.raises(openai.NotFoundError):
        await client_for(realistic).chat.completions.create(model="llama3-not-pulled", messages=prompt("Hi"))


async def test_a_structured_answer_follows_the_schema(realistic):
    schema = {"name": "thread", "strict": True, "schema": {"type": "object", "properties": {
        "parts": {"type": "array", "items": {"type": "string"}}}, "required": ["parts"],
        "additionalProperties": False}}
    result = await client_for(realistic).chat.completions.create(
        model="gpt-4o-mini", seed=5, response_format={"type": "json_schema", "json_schema": schema},
        messages=prompt("Write a thread of exactly 4 parts, each at most 272 characters.", "Topic: sleep."))
    message = result.choices[0].message
    if message.refusal is None:
        body = message.content.strip().removeprefix("```json").removesuffix("```")
        import json
        assert len(json.loads(body[body.index("{"):])["parts"]) == 4
