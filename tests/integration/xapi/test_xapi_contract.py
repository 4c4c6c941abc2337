"""The sandbox's X API answers against X's shapes (tests/data/xapi: JSON Schemas of X's OpenAPI specification,
from X's own SDK; see generate.py there): every field the sandbox sends is one X declares, with X's type, and
errors are X's problem objects with the status of the answer."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import pytest_asyncio

from tests.integration.xapi.conftest import HANDLE, api_settings, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHAPES = Path(__file__).parents[2] / "data" / "xapi"
TWEET_FIELDS = "created_at,public_metrics,author_id,conversation_id,in_reply_to_user_id,lang,referenced_tweets"
# Documented by X (its metrics guide; tweepy passes them through as dicts) but not declared in the OpenAPI
# specification, whose objects allow extra fields: the sandbox may send these and nothing else undeclared.
DOCUMENTED_EXTRAS = {"non_public_metrics.url_link_clicks", "non_public_metrics.user_profile_clicks",
                     "organic_metrics.url_link_clicks", "organic_metrics.user_profile_clicks",
                     # declared from xdk 0.10.4 on, as edit_history_post_ids
                     "data.edit_history_tweet_ids"}
# An error's own shape, by its type.
TYPED_PROBLEMS = {"resource-not-found": "resource_not_found_problem", "invalid-request": "invalid_request_problem",
                  "not-authorized-for-field": "not_authorized_for_field_problem"}


def shape(name: str) -> dict[str, Any]:
    return json.loads((SHAPES / f"{name}.json").read_text())


def undeclared(instance: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "") -> list[str]:
    """Keys of ``instance`` that ``schema`` does not declare (the spec's objects allow extras; X sends none)."""
    if "$ref" in schema:
        return undeclared(instance, root["$defs"][schema["$ref"].split("/")[-1]], root, path)
    branches = [b for b in schema.get("anyOf", []) + schema.get("allOf", []) if b.get("type") != "null"]
    for branch in branches:
        if len(branches) == 1 or jsonschema.Draft202012Validator({**branch, "$defs": root.get("$defs", {})}) \
                .is_valid(instance):
            return undeclared(instance, branch, root, path)
    out: list[str] = []
    if isinstance(instance, dict) and "properties" in schema:
        for key, value in instance.items():
            where = f"{path}.{key}" if path else key
            if where.startswith("errors["):
                continue  # checked against the problem's own shape (conforms)
            if key in schema["properties"]:
                out += undeclared(value, schema["properties"][key], root, where)
            elif not any(where.endswith(extra) for extra in DOCUMENTED_EXTRAS):
                out.append(where)
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            out += undeclared(item, schema["items"], root, f"{path}[{i}]")
    return out


def conforms(body: Any, name: str) -> None:
    schema = shape(name)
    jsonschema.validate(body, schema)
    assert undeclared(body, schema, schema) == [], f"fields X does not declare in {name}"
    for error in body.get("errors") or [] if isinstance(body, dict) else []:
        problem = TYPED_PROBLEMS[error["type"].rsplit("/", 1)[-1]]
        conforms(error, problem)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bearer(sandbox, clock, tmp_path_factory) -> str:
    settings = api_settings(sandbox.base_url, tmp_path_factory.mktemp("token") / "t.json")
    return (await sign_in(sandbox, settings, clock)).access_token.get_secret_value()


async def call(sandbox, bearer: str, method: str, path: str, **kwargs: Any) -> tuple[int, dict, Any]:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    async with sandbox.http.request(method, sandbox.base_url + path, headers=headers, **kwargs) as resp:
        return resp.status, dict(resp.headers), await resp.json(content_type=None)


def rate_headers_ok(headers: dict[str, str]) -> None:
    limit, remaining, reset = (int(headers[f"x-rate-limit-{k}"]) for k in ("limit", "remaining", "reset"))
    assert 0 <= remaining <= limit and reset > time.time() - 1


async def test_create_tweet_and_lookups_have_x_shapes(sandbox, bearer) -> None:
    request = {"text": f"Contract check #{time.time_ns()}"}
    conforms(request, "create_tweet_request")
    status, headers, created = await call(sandbox, bearer, "POST", "/2/tweets", json=request)
    assert status == 201
    conforms(created, "create_tweet_response")
    rate_headers_ok(headers)
    tweet_id = created["data"]["id"]
    reply = {"text": f"Contract reply #{time.time_ns()}", "reply": {"in_reply_to_tweet_id": tweet_id}}
    conforms(reply, "create_tweet_request")
    status, _, replied = await call(sandbox, bearer, "POST", "/2/tweets", json=reply)
    assert status == 201

    fields = f"{TWEET_FIELDS},non_public_metrics,organic_metrics"
    status, headers, found = await call(sandbox, bearer, "GET", "/2/tweets",
                                        params={"ids": f"{tweet_id},{replied['data']['id']},1", "tweet.fields": fields})
    assert status == 200
    conforms(found, "tweets_lookup")
    rate_headers_ok(headers)
    assert {t["id"] for t in found["data"]} == {tweet_id, replied["data"]["id"]}
    assert all(set(t) >= {"id", "text", "edit_history_tweet_ids"} for t in found["data"])
    [missing] = found["errors"]
    assert missing["type"].endswith("/resource-not-found") and missing["resource_id"] == "1"


async def test_users_search_and_timeline_have_x_shapes(sandbox, bearer) -> None:
    status, headers, me = await call(sandbox, bearer, "GET", "/2/users/me",
                                     params={"user.fields": "description,public_metrics"})
    assert status == 200 and me["data"]["username"] == HANDLE
    conforms(me, "users_me")
    rate_headers_ok(headers)

    status, _, user = await call(sandbox, bearer, "GET", f"/2/users/by/username/{HANDLE}",
                                 params={"user.fields": "description,public_metrics"})
    conforms(user, "user_by_username")
    status, _, nobody = await call(sandbox, bearer, "GET", "/2/users/by/username/nobody_here_123")
    assert status == 200 and "data" not in nobody
    conforms(nobody, "user_by_username")

    status, _, found = await call(sandbox, bearer, "GET", "/2/tweets/search/recent", params={
        "query": "sleep -is:reply lang:en", "max_results": "10", "tweet.fields": TWEET_FIELDS,
        "expansions": "author_id", "user.fields": "username"})
    assert status == 200 and found["meta"]["result_count"] == len(found["data"]) > 0
    conforms(found, "search_recent")
    assert {t["author_id"] for t in found["data"]} <= {u["id"] for u in found["includes"]["users"]}

    status, _, timeline = await call(sandbox, bearer, "GET", f"/2/users/{me['data']['id']}/tweets",
                                     params={"max_results": "5", "tweet.fields": TWEET_FIELDS})
    assert status == 200
    conforms(timeline, "user_tweets")


async def test_errors_are_x_problems(sandbox, bearer) -> None:
    problem = "problem"
    status, _, body = await call(sandbox, "", "GET", "/2/users/me")
    assert status == 401 and body["status"] == 401
    conforms(body, problem)

    text = f"Said twice #{time.time_ns()}"
    await call(sandbox, bearer, "POST", "/2/tweets", json={"text": text})
    status, _, body = await call(sandbox, bearer, "POST", "/2/tweets", json={"text": text})
    assert status == 403 and "duplicate content" in body["detail"]
    conforms(body, problem)

    status, _, body = await call(sandbox, bearer, "GET", "/2/tweets/search/recent",
                                 params={"query": "sleep min_faves:10"})
    assert status == 400 and body["type"].endswith("/invalid-request")
    # X's 400: an invalid-request problem, plus the list of the parameters at fault and why.
    errors = body.pop("errors")
    conforms(body, "invalid_request_problem")
    assert "min_faves" in errors[0]["message"] and errors[0]["parameters"]["query"]

    status, _, body = await call(sandbox, bearer, "GET", "/2/tweets/search/recent",
                                 params={"query": "sleep", "max_results": "5"})
    assert status == 400
    status, _, body = await call(sandbox, bearer, "GET", "/2/users/me", params={"bogus": "1"})
    assert status == 400 and "bogus" in body["errors"][0]["message"]

    await sandbox.admin("/admin/xapi/limits", {"endpoint": "GET /2/users/me", "limit": 1})
    try:
        await call(sandbox, bearer, "GET", "/2/users/me")
        status, headers, body = await call(sandbox, bearer, "GET", "/2/users/me")
        assert status == 429 and headers["x-rate-limit-remaining"] == "0"
        conforms(body, problem)
    finally:
        await sandbox.admin("/admin/xapi/limits", {"endpoint": "GET /2/users/me", "limit": 75})


async def test_token_endpoint_errors_are_oauth_errors(sandbox) -> None:
    async with sandbox.http.post(sandbox.base_url + "/2/oauth2/token", data={
            "grant_type": "refresh_token", "refresh_token": "not-a-token", "client_id": "sandbox-client-id"}) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert set(body) == {"error", "error_description"} and body["error"] == "invalid_request"
