"""The sandbox speaks the X API v2: the subset xbot uses, served from the same world as the web pages.

Shapes are X's (``data``, ``includes``, ``meta``; errors in X's problem format ``type``/``title``/``detail``/
``status``), taken from X's own SDK (``xdk`` 0.10.3 on PyPI, generated from X's OpenAPI specification) and
tweepy's models; the subset the contract tests check is committed in tests/data/xapi/ with where it came from.

* OAuth 2.0 with PKCE: ``GET/POST /i/oauth2/authorize`` (the consent page: sign in and allow) redirects to the
  app's redirect URI with a code; ``POST /2/oauth2/token`` exchanges it (S256 checked) and refreshes (refresh
  tokens rotate, as on X). Access tokens live ``access_token_ttl_s`` simulated seconds (X: 2 hours). OAuth 1.0a
  user tokens are accepted when their consumer key and token match the settings and their HMAC-SHA1 signature
  covers the URL the request arrived at (the consumer and token secrets are the settings').
* Endpoints: ``POST /2/tweets``, ``GET /2/tweets``, ``GET /2/tweets/search/recent``, ``GET /2/users/me``,
  ``GET /2/users/by/username/{username}``, ``GET /2/users/{id}/tweets``. Unknown query parameters, operators the
  API does not have (``min_faves:``, ``since:``, ``filter:``...) and out-of-range ``max_results`` are 400s, as on X.
  A search query is read with the API's precedence (AND before OR, parentheses group), not the web's.
* Posts: the fields and expansions asked for; a long post's ``text`` cut (whole in ``note_tweet``), a quote post's
  quoted post in ``referenced_tweets`` and ``includes.tweets`` (one gone: in ``errors``, as X's partial errors).
* Rate limits: fixed 15-minute windows per user and endpoint, with ``x-rate-limit-limit/-remaining/-reset`` on
  every answer and 429 past them; X's 24-hour posting limit (the world's) in ``x-user-limit-24hour-*`` on every
  answer to a post, and 429 past it.
* Writes go through the world's rules (``World.create_tweet``: limits, duplicates) and the forced write faults,
  so they count as web writes do. Reads are counted here per UTC day (posts and users served, and the unique
  ones X would bill) at ``/admin/xapi/usage``; they do not feed the web client's suspicion model.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
from aiohttp import web
from oauthlib.oauth1.rfc5849 import signature
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.text import find_urls
from sandbox.faults import Faults
from sandbox.settings import SandboxSettings
from sandbox.world import MAX_TWEET_CHARS, QuotedView, TweetView, World, WriteRefused, mentions
from sandbox.world import _newest_order as newest_order

PROBLEMS = "https://api.x.com/2/problems/"
# Some of X's problems still name the old host.
TWITTER_PROBLEMS = "https://api.twitter.com/2/problems/"
WINDOW_S = 15 * 60.0
USAGE_DAYS = 7
OWN_METRICS_DAYS = 30
# An authorisation code lives a minute of real time: the consent round trip is a person's (or a pasted URL), and
# the simulated clock may run hundreds of times faster.
CODE_TTL_REAL_S = 60.0
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
DEFAULT_USER_FIELDS = ("id", "name", "username")
# Operators of the web's search that the API does not have: X answers 400 naming the operator.
WEB_ONLY_OPERATORS = ("min_faves", "min_retweets", "min_replies", "filter", "since", "until", "near", "within")


class XApiSettings(BaseSettings):
    """``XBOT_SANDBOX_API_*``: the one app registered with the sandbox and the API's limits."""

    model_config = SettingsConfigDict(env_prefix="XBOT_SANDBOX_API_", extra="ignore", validate_default=True)

    client_id: str = "sandbox-client-id"
    client_secret: SecretStr = SecretStr("sandbox-client-secret")
    # Registered redirect URIs (comma-separated); empty accepts any loopback URI, as a local test app would be.
    redirect_uris: str = ""
    access_token_ttl_s: float = Field(default=7200.0, gt=0)
    consumer_key: str = "sandbox-consumer-key"
    consumer_secret: SecretStr = SecretStr("sandbox-consumer-secret")
    access_token: str = "sandbox-oauth1-token"
    access_token_secret: SecretStr = SecretStr("sandbox-oauth1-token-secret")
    # Requests per user per 15-minute window, near X's published per-user limits.
    limit_create_tweet: int = Field(default=100, ge=1)
    limit_delete_tweet: int = Field(default=50, ge=1)
    limit_tweet_lookup: int = Field(default=900, ge=1)
    limit_search_recent: int = Field(default=300, ge=1)
    limit_users_me: int = Field(default=75, ge=1)
    limit_user_by_username: int = Field(default=900, ge=1)
    limit_user_tweets: int = Field(default=900, ge=1)
    # X's rule for programmatic replies since 2026-02-23: only to a post that mentions the account (a reply to one
    # of ours does) or is its own ("mentioned"); "any" answers every reply the author's reply settings allow.
    reply_rule: Literal["mentioned", "any"] = "mentioned"
    # The app's prepaid credits in USD (X's pay-per-use API): once what X would bill reaches them every request is
    # answered 402 CreditsDepleted until they are topped up (/admin/xapi/credits). Unset: never run out.
    credits_usd: float | None = Field(default=None, ge=0)
    # A plan's monthly cap on posts read (X's Basic and Pro plans): past it every read answers 429
    # UsageCapExceeded until the next UTC month. Unset: no cap.
    monthly_post_reads: int | None = Field(default=None, ge=0)
    # The app's 24-hour post limit (X counts it over every account using the app; here, the account's tweets of
    # the last 24 h): past it POST /2/tweets answers 429 with x-app-limit-24hour-remaining 0. Unset: none.
    app_daily_posts: int | None = Field(default=None, ge=0)
    # The app's standing with X: "project" (attached to a project, every endpoint), "free" (the free tier: writes
    # and /2/users/me only), "none" (not attached to a project: no v2 endpoint). Refused: 403 client-not-enrolled.
    enrollment: Literal["project", "free", "none"] = "project"


@dataclass
class Grant:
    client_id: str
    scope: str
    expires_at: float
    redirect_uri: str = ""
    challenge: str = ""
    method: str = "S256"


# What X bills per resource (pay-per-use from February 2026, X's developer documentation), each resource once per
# UTC day: the sandbox's bill is X's view of the spend, against which the gateway's own ledger can be checked.
PRICE_POST_READ, PRICE_USER_READ, PRICE_POST_CREATE, PRICE_POST_CREATE_URL = 0.005, 0.010, 0.015, 0.20


@dataclass
class DayUsage:
    day: str
    posts_read: int = 0
    users_read: int = 0
    posts_created: int = 0
    posts_created_url: int = 0  # of posts_created, those with a URL (priced apart)
    posts_seen: set[str] = field(default_factory=set)
    users_seen: set[str] = field(default_factory=set)
    requests: Counter[str] = field(default_factory=Counter)

    def billed_usd(self) -> float:
        return (len(self.posts_seen) * PRICE_POST_READ + len(self.users_seen) * PRICE_USER_READ
                + (self.posts_created - self.posts_created_url) * PRICE_POST_CREATE
                + self.posts_created_url * PRICE_POST_CREATE_URL)

    def describe(self) -> dict:
        return {"day": self.day, "posts_read": self.posts_read, "posts_read_unique": len(self.posts_seen),
                "users_read": self.users_read, "users_read_unique": len(self.users_seen),
                "posts_created": self.posts_created, "posts_created_url": self.posts_created_url,
                "billed_usd": round(self.billed_usd(), 4), "requests": dict(self.requests)}


@dataclass
class XApiState:
    settings: XApiSettings
    world: World
    faults: Faults
    account: SandboxSettings  # our account's handle and password (the consent page signs in with them)
    codes: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    # (user, endpoint) -> (window start, requests in it)
    windows: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)
    usage: dict[str, DayUsage] = field(default_factory=dict)
    month_reads: dict[str, int] = field(default_factory=dict)  # UTC month ("2026-12") -> posts read
    # Refusals of the API's own forced through /admin/xapi/faults: mode -> how many more requests it refuses.
    api_faults: Counter[str] = field(default_factory=Counter)

    def take_fault(self, mode: str) -> bool:
        if self.api_faults[mode] > 0:
            self.api_faults[mode] -= 1
            return True
        return False

    def __post_init__(self) -> None:
        s = self.settings
        self.limits = {"POST /2/tweets": s.limit_create_tweet, "DELETE /2/tweets/:id": s.limit_delete_tweet,
                       "GET /2/tweets": s.limit_tweet_lookup,
                       "GET /2/tweets/search/recent": s.limit_search_recent, "GET /2/users/me": s.limit_users_me,
                       "GET /2/users/by/username/:username": s.limit_user_by_username,
                       "GET /2/users/:id/tweets": s.limit_user_tweets}

    def billed_usd(self) -> float:
        return sum(u.billed_usd() for u in self.usage.values())

    def reads_capped(self, now: float) -> bool:
        cap = self.settings.monthly_post_reads
        return cap is not None and self.month_reads.get(_month(now), 0) >= cap

    def credits_spent(self) -> bool:
        credits = self.settings.credits_usd
        return credits is not None and self.billed_usd() >= credits

    def today(self, now: float) -> DayUsage:
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        if day not in self.usage:
            # A demo's days are kept for its bill; a week is more than any run simulates.
            self.usage = {d: u for d, u in self.usage.items() if d >= (datetime.fromtimestamp(now, UTC).date()
                                                                         - timedelta(days=USAGE_DAYS)).isoformat()}
            self.usage[day] = DayUsage(day)
        return self.usage[day]


XAPI = web.AppKey("xapi", XApiState)
Handler = Callable[[web.Request], Awaitable[web.Response]]


# ---------------------------------------------------------------------------- shapes


def user_id(handle: str) -> str:
    """A stable numeric id per handle (the sandbox's accounts have handles only)."""
    return str(int(hashlib.sha256(handle.lower().encode()).hexdigest()[:15], 16))


def iso_ms(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank",
            headers: dict[str, str] | None = None, **extra: object) -> web.Response:
    return web.json_response({"title": title, "detail": detail, "type": type_, "status": status, **extra},
                             status=status, headers=headers)


def invalid_request(message: str, parameter: str, value: str) -> web.Response:
    """X's 400: the request's parameters did not validate."""
    return web.json_response({
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request"}, status=400)


def not_found_error(kind: str, parameter: str, value: str, detail: str) -> dict:
    return {"value": value, "detail": detail, "title": "Not Found Error", "resource_type": kind,
            "parameter": parameter, "resource_id": value, "type": PROBLEMS + "resource-not-found"}


def api_text(text: str) -> str:
    """A post's ``text`` as the API gives it. A long post (X Premium's, over 280 characters: a "note tweet") is
    cut after its last whole word within 280 characters with nothing added, as a real answer shows
    (xdevplatform/samples#202: a 283-character post read as its first 270, up to "for this commendable"); its
    whole text is ``note_tweet.text``, given only when tweet.fields asks for note_tweet. Not xformat.shown_text,
    which ends the web timeline's cut with "…"."""
    if len(text) <= MAX_TWEET_CHARS:
        return text
    cut = text[:MAX_TWEET_CHARS]
    if not text[MAX_TWEET_CHARS].isspace():
        cut = cut.rsplit(None, 1)[0]
    return cut.rstrip()


def _text_json(post_id: str, text: str, fields: set[str]) -> dict:
    out: dict = {"id": post_id, "text": api_text(text), "edit_history_tweet_ids": [post_id]}
    if "note_tweet" in fields and len(text) > MAX_TWEET_CHARS:
        out["note_tweet"] = {"text": text}
    return out


def tweet_json(world: World, view: TweetView, fields: set[str], *, owner: str) -> tuple[dict, dict | None]:
    """A post with the asked fields, and the field-authorization problem when it asked for the author's
    metrics of someone else's post (or of one older than 30 days)."""
    c = view.counts
    out = _text_json(view.id, view.text, fields)
    values: dict[str, object] = {
        "author_id": user_id(view.handle), "created_at": iso_ms(view.created_at), "lang": view.lang,
        "conversation_id": _conversation(world, view), "reply_settings": view.reply_settings,
        "public_metrics": {"retweet_count": c.retweets, "reply_count": c.replies, "like_count": c.likes,
                           "quote_count": 0, "bookmark_count": c.bookmarks, "impression_count": c.views},
    }
    if view.in_reply_to:
        values["in_reply_to_user_id"] = user_id(view.reply_to_handle or view.handle)
    if _references(view):
        values["referenced_tweets"] = [{"type": kind, "id": ref} for kind, ref in _references(view)]
    for name, value in values.items():
        if name in fields:
            out[name] = value
    private = {"non_public_metrics", "organic_metrics"} & fields
    if not private:
        return out, None
    recent = world.now() - view.created_at < OWN_METRICS_DAYS * 86400
    if view.handle.lower() != owner.lower() or not recent:
        name = sorted(private)[0]
        return out, {"value": view.id, "detail": f"Sorry, you are not authorized to access '{name}' on the Tweet "
                     f"with ids: [{view.id}].", "field": name, "resource_type": "tweet",
                     "title": "Field Authorization Error", "section": "data", "parameter": "tweet.fields",
                     "resource_id": view.id, "type": PROBLEMS + "not-authorized-for-field"}
    if "non_public_metrics" in fields:
        out["non_public_metrics"] = {"impression_count": c.views, "url_link_clicks": 0,
                                     "user_profile_clicks": c.profile_clicks}
    if "organic_metrics" in fields:
        out["organic_metrics"] = {"impression_count": c.views, "like_count": c.likes, "reply_count": c.replies,
                                  "retweet_count": c.retweets, "url_link_clicks": 0,
                                  "user_profile_clicks": c.profile_clicks}
    return out, None


def _references(view: TweetView) -> list[tuple[str, str]]:
    """The posts a post refers to: the one it answers and the one it quotes (a reply may quote too)."""
    refs = [("replied_to", view.in_reply_to)] if view.in_reply_to else []
    return refs + ([("quoted", view.quoted.id)] if view.quoted else [])


def quoted_json(quoted: QuotedView, fields: set[str]) -> dict:
    """A quoted post as ``includes.tweets`` holds it: what its card knows (no counts, no language)."""
    out = _text_json(quoted.id, quoted.text, fields)
    values = {"author_id": user_id(quoted.handle or ""), "created_at": iso_ms(quoted.created_at),
              "conversation_id": quoted.id}
    return out | {k: v for k, v in values.items() if k in fields}


def _conversation(world: World, view: TweetView) -> str:
    root, seen = view, 0
    while root.in_reply_to and seen < 50:
        parent = world.tweet(root.in_reply_to)
        if parent is None:
            return root.in_reply_to
        root, seen = parent, seen + 1
    return root.id


def user_json(world: World, account: dict, fields: set[str]) -> dict:
    out = {"id": user_id(account["handle"]), "name": account["name"], "username": account["handle"]}
    tweets = len(world.own_tweets()) if account["handle"].lower() == world.handle.lower() else 0
    values = {"description": account["bio"],
              "public_metrics": {"followers_count": account["followers"], "following_count": account["following"],
                                 "tweet_count": tweets, "listed_count": 0, "like_count": 0}}
    return out | {k: v for k, v in values.items() if k in fields}


# ---------------------------------------------------------------------------- request plumbing


def _fields(request: web.Request, name: str, defaults: tuple[str, ...]) -> set[str]:
    # X's SDK calls the post fields post.fields from its 2026 specification on; both are read.
    given = request.query.get(f"{name}.fields") or (request.query.get("post.fields") if name == "tweet" else None)
    return set(defaults) | {f for f in (given or "").split(",") if f}


def _unknown_params(request: web.Request, allowed: set[str]) -> web.Response | None:
    unknown = sorted(set(request.query) - allowed)
    if unknown:
        return invalid_request(f"The query parameters [{','.join(unknown)}] is not one of "
                               f"[{','.join(sorted(allowed))}]", unknown[0], request.query[unknown[0]])
    return None


def _caller(request: web.Request) -> Grant | None:
    state, now = request.app[XAPI], _world(request).now()
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        grant = state.access.get(auth[7:])
        return grant if grant is not None and grant.expires_at > now else None
    if auth.startswith("OAuth ") and _oauth1_signed(request, state.settings):
        return Grant(client_id="oauth1", scope="tweet.read tweet.write users.read", expires_at=float("inf"))
    return None


def _oauth1_signed(request: web.Request, s: XApiSettings) -> bool:
    """An OAuth 1.0a request of the registered app and token whose HMAC-SHA1 signature covers the request as it
    arrived: its method, the URL it was sent to (scheme, host and port included) and its query (RFC 5849 3.4; a
    JSON body is not signed). X answers 401 to any other."""
    try:
        params = signature.collect_parameters(uri_query=request.rel_url.raw_query_string, headers=request.headers,
                                              exclude_oauth_signature=False)
    except ValueError:
        return False
    given = dict(params)
    if given.get("oauth_consumer_key") != s.consumer_key or given.get("oauth_token") != s.access_token \
            or given.get("oauth_signature_method") != "HMAC-SHA1" or "oauth_signature" not in given:
        return False
    base = signature.signature_base_string(
        request.method, signature.base_string_uri(str(request.url)),
        signature.normalize_parameters([(k, v) for k, v in params if k != "oauth_signature"]))
    expected = signature.sign_hmac_sha1(base, s.consumer_secret.get_secret_value(),
                                        s.access_token_secret.get_secret_value())
    return secrets.compare_digest(expected, given["oauth_signature"])


def _world(request: web.Request) -> World:
    return request.app[XAPI].world


def _rate(state: XApiState, user: str, endpoint: str, now: float) -> tuple[bool, dict[str, str]]:
    """Count one request in the user's window of the endpoint; (allowed, the headers X sends)."""
    limit = state.limits[endpoint]
    start, used = state.windows.get((user, endpoint), (now, 0))
    if now - start >= WINDOW_S:
        start, used = now, 0
    allowed = used < limit
    used += 1 if allowed else 0
    state.windows[(user, endpoint)] = (start, used)
    return allowed, {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(limit - used),
                     "x-rate-limit-reset": str(int(start + WINDOW_S))}


def endpoint(name: str, *, scope: str = "tweet.read", params: set[str] | frozenset[str] = frozenset()):
    """Authenticate, check the scope and the account, count the request in its window; the handler's answer
    carries the rate-limit headers."""

    def wrap(handler: Callable[[web.Request, dict[str, str]], Awaitable[web.Response]]) -> Handler:
        async def run(request: web.Request) -> web.Response:
            state, world = request.app[XAPI], _world(request)
            grant = _caller(request)
            if grant is None:
                return problem(401, "Unauthorized", "Unauthorized")
            if scope not in grant.scope.split():
                return problem(403, "Forbidden", f"The token lacks the {scope} scope needed for {name}.",
                               type_=PROBLEMS + "client-forbidden", reason="insufficient-scope")
            refused = _not_enrolled(state.settings.enrollment, name)
            if refused:
                return problem(403, "Client Forbidden", refused, type_=TWITTER_PROBLEMS + "client-forbidden",
                               reason="client-not-enrolled", client_id=grant.client_id,
                               required_enrollment="Appropriate Level of API Access",
                               registration_url="https://developer.x.com/en/portal/products")
            if state.credits_spent():
                return problem(402, "CreditsDepleted", "Your enrolled account [sandbox] does not have any credits "
                               "to fulfill this request.", type_=PROBLEMS + "credits")
            if name.startswith("GET ") and state.reads_capped(world.now()):
                return problem(429, "UsageCapExceeded", "Usage cap exceeded: Monthly product cap",
                               type_=PROBLEMS + "usage-capped", period="Monthly", scope="Product")
            if state.faults.locked:
                return problem(403, "Forbidden", "To protect our users from spam and other malicious activity, "
                               "this account is temporarily locked. Please log in to https://x.com to unlock "
                               "your account.")
            bad = _unknown_params(request, set(params))
            if bad is not None:
                return bad
            allowed, headers = _rate(state, world.handle, name, world.now())
            state.today(world.now()).requests[name] += 1
            if not allowed:
                return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
            response = await handler(request, headers)
            for header, value in headers.items():  # a refusal may have said more (no room left)
                response.headers.setdefault(header, value)
            return response

        return run

    return wrap


def _not_enrolled(enrollment: str, endpoint_name: str) -> str | None:
    """X's words when the app may not use the endpoint, else None."""
    if enrollment == "none":
        return ("When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a "
                "Twitter developer App that is attached to a Project. You can create a project via the developer "
                "portal.")
    if enrollment == "free" and endpoint_name.startswith("GET ") and endpoint_name != "GET /2/users/me":
        return ("You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints (e.g. media "
                "post, oauth) only. If you need access to this endpoint, you may need a different access level. You "
                "can learn more here: https://developer.x.com/en/portal/product")
    return None


def _month(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m")


def _count_reads(request: web.Request, posts: list[dict], users: list[dict]) -> None:
    state, now = request.app[XAPI], _world(request).now()
    state.month_reads[_month(now)] = state.month_reads.get(_month(now), 0) + len(posts)
    usage = state.today(now)
    usage.posts_read += len(posts)
    usage.users_read += len(users)
    usage.posts_seen.update(p["id"] for p in posts)
    usage.users_seen.update(u["id"] for u in users)


def _answer(request: web.Request, data: list[dict] | dict | None, *, includes_users: list[dict] | None = None,
            includes_tweets: list[dict] | None = None, meta: dict | None = None, errors: list[dict] | None = None,
            users_in_data: bool = False) -> web.Response:
    body: dict = {}
    if data is not None and data != []:
        body["data"] = data
    items = data if isinstance(data, list) else [data] if data else []
    # X bills every resource an answer returns, the expanded ones too (its pricing: "charged per resource
    # returned in the response"); the gateway's ledger charges includes the same way.
    _count_reads(request, ([] if users_in_data else items) + (includes_tweets or []),
                 (items if users_in_data else []) + (includes_users or []))
    includes = {k: v for k, v in (("users", includes_users), ("tweets", includes_tweets)) if v}
    if includes:
        body["includes"] = includes
    if errors:
        body["errors"] = errors
    if meta is not None:
        body["meta"] = meta
    return web.json_response(body)


# ---------------------------------------------------------------------------- OAuth 2.0 with PKCE


def _redirect_ok(state: XApiState, uri: str) -> bool:
    registered = [u.strip() for u in state.settings.redirect_uris.split(",") if u.strip()]
    if registered:
        return uri in registered
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def _authorize_problem(request: web.Request, params: dict[str, str]) -> str | None:
    state = request.app[XAPI]
    if params.get("client_id") != state.settings.client_id:
        return "Something went wrong: unknown client_id."
    if not _redirect_ok(state, params.get("redirect_uri", "")):
        return "Something went wrong: the redirect_uri is not registered for this app."
    if params.get("response_type") != "code" or not params.get("code_challenge") \
            or params.get("code_challenge_method", "plain") not in ("S256", "plain") or not params.get("state"):
        return "Something went wrong: response_type=code, state and a code_challenge are required."
    return None


_AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                     "code_challenge_method")


def _consent_page(params: dict[str, str], error: str = "") -> web.Response:
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(params.get(k, ""))}">'
                     for k in _AUTHORIZE_PARAMS)
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params.get("scope", "").split())
    note = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    page = (f"<!doctype html><title>Authorize app</title><h1>Authorize {html.escape(params['client_id'])} to "
            f"access your account?</h1><ul>{scopes}</ul>{note}<form method=post>{hidden}"
            '<input name="username" placeholder="Username"><input name="password" type="password" '
            'placeholder="Password"><button name="decision" value="allow">Authorize app</button>'
            '<button name="decision" value="deny">Cancel</button></form>')
    return web.Response(text=page, content_type="text/html")


async def authorize_page(request: web.Request) -> web.Response:
    params = dict(request.query)
    bad = _authorize_problem(request, params)
    if bad:  # never redirect to an unverified URI (RFC 6749 4.1.2.1)
        return web.Response(text=bad, status=400)
    return _consent_page(params)


async def authorize_submit(request: web.Request) -> web.Response:
    form = {k: str(v) for k, v in (await request.post()).items()}
    params = {k: form.get(k, "") for k in _AUTHORIZE_PARAMS}
    bad = _authorize_problem(request, params)
    if bad:
        return web.Response(text=bad, status=400)
    target = params["redirect_uri"]
    sep = "&" if "?" in target else "?"
    if form.get("decision") != "allow":
        raise web.HTTPFound(f"{target}{sep}{urlencode({'error': 'access_denied', 'state': params['state']})}")
    account = request.app[XAPI].account
    if form.get("username", "").lstrip("@").lower() != account.handle.lower() or \
            not secrets.compare_digest(form.get("password", ""), account.password.get_secret_value()):
        return _consent_page(params, "Wrong username or password.")
    code = secrets.token_urlsafe(32)
    request.app[XAPI].codes[code] = Grant(
        client_id=params["client_id"], scope=params["scope"], expires_at=time.monotonic() + CODE_TTL_REAL_S,
        redirect_uri=target, challenge=params["code_challenge"],
        method=params["code_challenge_method"] or "plain")
    raise web.HTTPFound(f"{target}{sep}{urlencode({'state': params['state'], 'code': code})}")


async def consent(http: aiohttp.ClientSession, authorization_url: str, *, username: str, password: str,
                  decision: str = "allow") -> str:
    """What a person does on this consent page: open it, sign in and allow (or deny). X's redirect, its
    Location, is returned, not followed: the caller delivers it (to `xbot login --api`'s listener, or pastes it).
    For the tests and `xbot demo --driver api`, where nobody sits at a browser."""
    async with http.get(authorization_url) as resp:
        if resp.status != 200:
            raise RuntimeError(f"the consent page answered {resp.status}: {await resp.text()}")
    form = dict(parse_qsl(authorization_url.split("?", 1)[1]))
    form |= {"username": username, "password": password, "decision": decision}
    async with http.post(authorization_url.split("?", 1)[0], data=form, allow_redirects=False) as resp:
        if resp.status != 302:
            raise RuntimeError(f"the consent form answered {resp.status}, not X's redirect: {await resp.text()}")
        return resp.headers["Location"]


def _token_error(description: str, error: str = "invalid_request", status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _client_of(request: web.Request, form: dict[str, str]) -> str | None:
    """The authenticated client: HTTP Basic for a confidential client, client_id in the body for a public one."""
    s = request.app[XAPI].settings
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return None
        ok = cid == s.client_id and secrets.compare_digest(secret, s.client_secret.get_secret_value())
        return cid if ok else None
    return form.get("client_id") if form.get("client_id") == s.client_id else None


def _issue(state: XApiState, client_id: str, scope: str, now: float) -> web.Response:
    ttl = state.settings.access_token_ttl_s
    access = secrets.token_urlsafe(32)
    state.access[access] = Grant(client_id=client_id, scope=scope, expires_at=now + ttl)
    body = {"token_type": "bearer", "expires_in": int(ttl), "access_token": access, "scope": scope}
    if "offline.access" in scope.split():
        refresh = secrets.token_urlsafe(32)
        state.refresh[refresh] = Grant(client_id=client_id, scope=scope, expires_at=float("inf"))
        body["refresh_token"] = refresh
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def token(request: web.Request) -> web.Response:
    state, now = request.app[XAPI], _world(request).now()
    if state.take_fault("token_rate_limit"):  # X's token endpoint has a rate limit too; the grant is untouched
        return web.json_response({"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, status=429, headers={
            "x-rate-limit-limit": "300", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(now + WINDOW_S))})
    form = {k: str(v) for k, v in (await request.post()).items()}
    client = _client_of(request, form)
    if client is None:
        return _token_error("Missing valid authorization header", "unauthorized_client", 401)
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        grant = state.codes.pop(form.get("code", ""), None)
        if grant is None or grant.expires_at < time.monotonic() or grant.client_id != client:
            return _token_error("Value passed for the authorization code was invalid.")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _token_error("Value passed for the redirect uri did not match the uri of the authorization code.")
        verifier = form.get("code_verifier", "")
        expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=") \
            if grant.method == "S256" else verifier
        if not verifier or not secrets.compare_digest(expected, grant.challenge):
            return _token_error("Value passed for the code verifier did not match the code challenge.")
        return _issue(state, client, grant.scope, now)
    if grant_type == "refresh_token":
        grant = state.refresh.pop(form.get("refresh_token", ""), None)  # rotated: the old one stops working
        if grant is None or grant.client_id != client:
            return _token_error("Value passed for the token was invalid.")
        return _issue(state, client, grant.scope, now)
    return _token_error("Value passed for the grant type was invalid.", "unsupported_grant_type")


# ---------------------------------------------------------------------------- the v2 endpoints


@endpoint("GET /2/users/me", scope="users.read", params={"user.fields", "expansions", "tweet.fields"})
async def users_me(request: web.Request, _: dict[str, str]) -> web.Response:
    world = _world(request)
    account = world.account(world.handle)
    assert account is not None
    return _answer(request, user_json(world, account, _fields(request, "user", DEFAULT_USER_FIELDS)),
                   users_in_data=True)


@endpoint("GET /2/users/by/username/:username", scope="users.read",
          params={"user.fields", "expansions", "tweet.fields"})
async def user_by_username(request: web.Request, _: dict[str, str]) -> web.Response:
    world, username = _world(request), request.match_info["username"]
    account = world.account(username)
    if account is None and username.lower() in world.suspended:
        return _answer(request, None, errors=[not_found_error(
            "user", "username", username, f"User has been suspended: [{username}].") | {"title": "Forbidden"}])
    if account is None:
        return _answer(request, None, errors=[not_found_error(
            "user", "username", username, f"Could not find user with username: [{username}].")])
    return _answer(request, user_json(world, account, _fields(request, "user", DEFAULT_USER_FIELDS)),
                   users_in_data=True)


@dataclass
class Posts:
    """Posts as an answer holds them: ``data``, ``includes`` (the expansions asked for) and ``errors``."""

    data: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    tweets: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)


def _posts(request: web.Request, views: list[TweetView]) -> Posts:
    """The posts with the asked fields; with ``expansions``, their authors (author_id), the posts they answer or
    quote (referenced_tweets.id) and those posts' authors (referenced_tweets.id.author_id). A referenced post X
    cannot show (deleted, or its author suspended) is left out of ``includes`` and named in ``errors``, and the
    answer still succeeds, as X's partial errors do."""
    world = _world(request)
    fields = _fields(request, "tweet", DEFAULT_TWEET_FIELDS)
    expansions = set(request.query.get("expansions", "").split(","))
    out = Posts()
    for view in views:
        post, refused = tweet_json(world, view, fields, owner=world.handle)
        if refused:
            out.problems.append(refused)
        else:
            out.data.append(post)
    authors = [v.handle for v in views] if "author_id" in expansions else []
    if expansions & {"referenced_tweets.id", "referenced_tweets.id.author_id"}:
        seen: set[str] = set()
        for view in views:
            for kind, ref in _references(view):
                if ref in seen:
                    continue
                seen.add(ref)
                included, handle = _referenced(world, view, kind, ref, fields)
                if included is None:
                    out.problems.append(not_found_error("tweet", "referenced_tweets.id", ref,
                                                        f"Could not find tweet with referenced_tweets.id: [{ref}]."))
                    continue
                if "referenced_tweets.id" in expansions:
                    out.tweets.append(included)
                if "referenced_tweets.id.author_id" in expansions:
                    authors.append(handle)
    user_fields, known = _fields(request, "user", DEFAULT_USER_FIELDS), set()
    for handle in authors:
        account = world.account(handle)
        if account and handle.lower() not in known:
            known.add(handle.lower())
            out.users.append(user_json(world, account, user_fields))
    return out


def _referenced(world: World, view: TweetView, kind: str, ref: str, fields: set[str]) -> tuple[dict | None, str]:
    """A post ``view`` answers or quotes as includes.tweets holds it and its author's handle; None when gone."""
    if kind == "quoted":
        quoted = view.quoted
        if quoted is None or quoted.handle is None:
            return None, ""
        return quoted_json(quoted, fields), quoted.handle
    parent = world.tweet(ref)
    if parent is None:
        return None, ""
    # The author's private metrics of someone else's post are left out here without a problem of their own.
    return tweet_json(world, parent, fields, owner=world.handle)[0], parent.handle


LOOKUP_PARAMS = {"ids", "tweet.fields", "post.fields", "expansions", "user.fields", "media.fields",
                 "place.fields", "poll.fields"}


@endpoint("GET /2/tweets", params=LOOKUP_PARAMS)
async def tweets_lookup(request: web.Request, _: dict[str, str]) -> web.Response:
    ids = [i for i in request.query.get("ids", "").split(",") if i]
    if not 1 <= len(ids) <= 100 or not all(i.isdigit() for i in ids):
        return invalid_request("The `ids` query parameter value must be 1 to 100 comma-separated numeric ids",
                               "ids", request.query.get("ids", ""))
    world = _world(request)
    views = [v for v in (world.tweet(i) for i in ids) if v is not None]
    missing = [not_found_error("tweet", "ids", i, f"Could not find tweet with ids: [{i}].")
               for i in ids if world.tweet(i) is None]
    posts = _posts(request, views)
    return _answer(request, posts.data, includes_users=posts.users, includes_tweets=posts.tweets,
                   errors=missing + posts.problems)


SEARCH_PARAMS = {"query", "max_results", "sort_order", "start_time", "end_time", "since_id", "until_id",
                 "next_token", "pagination_token", "tweet.fields", "post.fields", "expansions", "user.fields",
                 "media.fields", "place.fields", "poll.fields"}


# An API query's tokens: "phrases", parentheses (a group may be negated) and the words and operators between.
_API_TOKEN = re.compile(r'-?"[^"]*"|-?\(|\)|[^\s()"]+')


def api_alternatives(query: str) -> list[list[str]]:
    """An API query as alternatives (OR), each the terms that must all hold (AND). X's API combines AND before OR,
    and parentheses group (X's query docs: ``a OR b lang:en`` is a, or b in English), where the web binds OR
    tighter; a negated group is turned inside out (not (a or b) = not a and not b). ValueError when X would refuse
    the query's shape (an unbalanced parenthesis, an OR with nothing on one side)."""
    tokens, pos = _API_TOKEN.findall(query), 0

    def either() -> list[list[str]]:
        nonlocal pos
        out = both()
        while pos < len(tokens) and tokens[pos] == "OR":
            pos += 1
            out += both()
        return out

    def both() -> list[list[str]]:
        nonlocal pos
        out: list[list[str]] = [[]]
        first = pos
        while pos < len(tokens) and tokens[pos] not in ("OR", ")"):
            token, pos = tokens[pos], pos + 1
            group = [[token]]
            if token.lstrip("-") == "(":
                group = either()
                if pos == len(tokens):
                    raise ValueError("a parenthesis is not closed")
                pos += 1
                if token.startswith("-"):
                    group = _negated(group)
            out = [a + b for a in out for b in group]
        if pos == first:
            raise ValueError("nothing to combine")
        return out

    alternatives = either()
    if pos < len(tokens):
        raise ValueError("a parenthesis closes nothing")
    return alternatives


def _negated(alternatives: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for terms in alternatives:
        out = [a + [t[1:] if t.startswith("-") else "-" + t] for a in out for t in terms]
    return out


def _api_query_to_world(query: str, start: float | None,
                        end: float | None) -> tuple[list[str] | None, str | None]:
    """The API query as queries of the world's (web) search, whose results together answer it, or (None, the
    invalid operator). Alternatives that differ in one word only are one web query (``a OR b lang:en``: the web
    binds that OR first), so a query grouped as the API wants it is one search, in the world's own order."""
    merged: dict[tuple[str, ...], list[str]] = {}
    times = [f"{op}:{datetime.fromtimestamp(ts, UTC):%Y-%m-%d_%H:%M:%S}_UTC"
             for op, ts in (("since", start), ("until", end)) if ts is not None]
    for terms in api_alternatives(query):
        tokens = []
        for token in terms:
            key, sep, value = token.lstrip("-").partition(":")
            if sep and value and key.lower() in WEB_ONLY_OPERATORS:
                return None, key
            if key.lower() == "is" and value.lower() == "reply":
                tokens.append(("-" if token.startswith("-") else "") + "filter:replies")
            elif key.lower() == "is" and value.lower() == "retweet":
                if not token.startswith("-"):
                    break  # the population never reposts: nothing matches
            else:
                tokens.append(token)
        else:
            words = [i for i, t in enumerate(tokens) if not t.startswith("-") and ":" not in t]
            # None: the alternative is all its other terms, which cover any word merged with them.
            word = tokens.pop(words[0]) if len(words) == 1 else None
            merged.setdefault((*tokens, *times), []).append(word)
    return [" ".join([*rest, *([] if None in words else [" OR ".join(w for w in words if w)])])
            for rest, words in merged.items()], None


def _union(results: list[list[TweetView]], *, latest: bool) -> list[TweetView]:
    """The posts of several searches once each: newest first, or (relevancy, X's own order) each search's best
    in turn."""
    if len(results) == 1:
        return results[0]
    ranked = [v for rank in itertools.zip_longest(*results) for v in rank if v is not None]
    unique = list({v.id: v for v in reversed(ranked)}.values())[::-1]
    return sorted(unique, key=newest_order, reverse=True) if latest else unique


def _time_param(request: web.Request, name: str) -> float | None:
    value = request.query.get(name)
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@endpoint("GET /2/tweets/search/recent", params=SEARCH_PARAMS)
async def search_recent(request: web.Request, _: dict[str, str]) -> web.Response:
    world, q = _world(request), request.query.get("query", "")
    try:
        max_results = int(request.query.get("max_results", "10"))
        start, end = _time_param(request, "start_time"), _time_param(request, "end_time")
    except ValueError as err:
        return invalid_request(f"Invalid parameter: {err}", "max_results", request.query.get("max_results", ""))
    if not 10 <= max_results <= 100:
        return invalid_request(f"The `max_results` query parameter value [{max_results}] is not between 10 and 100",
                               "max_results", str(max_results))
    if start is not None and start < world.now() - 7 * 86400:
        return invalid_request("Invalid 'start_time':'" + request.query["start_time"] + "'. 'start_time' must be "
                               "on or after the last 7 days", "start_time", request.query["start_time"])
    if end is not None and end < world.now() - 7 * 86400:
        return invalid_request("Invalid 'end_time':'" + request.query["end_time"] + "'. 'end_time' must be on or "
                               "after the last 7 days", "end_time", request.query["end_time"])
    if start is not None and end is not None and start >= end:
        return invalid_request("Invalid 'start_time':'" + request.query["start_time"] + "'. 'start_time' must be "
                               "before 'end_time'", "start_time", request.query["start_time"])
    if end is not None and end > world.now() - 10:
        return invalid_request("Invalid 'end_time':'" + request.query["end_time"] + "'. 'end_time' must be a "
                               "minimum of 10 seconds prior to the request time.", "end_time",
                               request.query["end_time"])
    if not q.strip() or len(q) > 512:
        return invalid_request("The `query` query parameter value must be 1 to 512 characters", "query", q)
    try:
        world_queries, bad_operator = _api_query_to_world(q, start, end)
    except ValueError as err:
        return invalid_request(f"There were errors processing your request: {err}", "query", q)
    if world_queries is None:
        return invalid_request(f"There were errors processing your request: Reference to invalid operator "
                               f"'{bad_operator}'. Operator is not available in current product or product "
                               f"packaging. Please refer to complete available operator list at "
                               f"https://developer.x.com/en/docs/twitter-api/tweets/search/integrate/build-a-query."
                               f" (at position 1)", "query", q)
    latest = request.query.get("sort_order", "recency") == "recency"
    views = _union([world.search(wq, latest=latest) for wq in world_queries], latest=latest)[:max_results]
    posts = _posts(request, views)
    meta: dict[str, object] = {"result_count": len(posts.data)}
    if posts.data:
        ids = sorted((int(d["id"]) for d in posts.data))
        meta |= {"newest_id": str(ids[-1]), "oldest_id": str(ids[0])}
    return _answer(request, posts.data, includes_users=posts.users, includes_tweets=posts.tweets,
                   errors=posts.problems, meta=meta)


USER_TWEETS_PARAMS = {"max_results", "exclude", "start_time", "end_time", "since_id", "until_id",
                      "pagination_token", "tweet.fields", "post.fields", "expansions", "user.fields",
                      "media.fields", "place.fields", "poll.fields"}


@endpoint("GET /2/users/:id/tweets", params=USER_TWEETS_PARAMS)
async def user_tweets(request: web.Request, _: dict[str, str]) -> web.Response:
    world, uid = _world(request), request.match_info["id"]
    try:
        max_results = int(request.query.get("max_results", "10"))
    except ValueError:
        max_results = 0
    if not 5 <= max_results <= 100:
        return invalid_request(f"The `max_results` query parameter value [{request.query.get('max_results')}] is "
                               "not between 5 and 100", "max_results", request.query.get("max_results", ""))
    exclude = set(request.query.get("exclude", "").split(","))
    if uid == user_id(world.handle):
        views = [v for v in (world.tweet(t.id) for t in world.own_tweets()) if v is not None]
    else:
        handle = next((a.handle for a in world.population.by_handle.values() if user_id(a.handle) == uid), None)
        if handle is None:
            return _answer(request, None, errors=[not_found_error(
                "user", "id", uid, f"Could not find user with id: [{uid}].")], meta={"result_count": 0})
        views = world.profile_timeline(handle, limit=100)
    if "replies" in exclude:
        views = [v for v in views if v.in_reply_to is None]
    views = sorted(views, key=lambda v: v.created_at, reverse=True)[:max_results]
    posts = _posts(request, views)
    meta = {"result_count": len(posts.data)}
    if posts.data:
        meta |= {"newest_id": posts.data[0]["id"], "oldest_id": posts.data[-1]["id"]}
    return _answer(request, posts.data, includes_users=posts.users, includes_tweets=posts.tweets,
                   errors=posts.problems, meta=meta)


def _day_limit_headers(world: World, kind: str = "post", *, spent: bool = False) -> dict[str, str]:
    """X's account 24-hour posting limit of the kind, as it tells it on every answer to a post (``spent``: a
    refusal for it, forced or not)."""
    now = world.now()
    limit = world.limits.daily_posts if kind == "post" else world.limits.daily_replies
    recent = [t.created_at for t in world.run_tweets() if t.kind == kind and now - t.created_at < 86400]
    reset = (min(recent) + 86400) if recent else now + 86400
    remaining = 0 if spent else max(0, limit - len(recent))
    return {"x-user-limit-24hour-limit": str(limit), "x-user-limit-24hour-remaining": str(remaining),
            "x-user-limit-24hour-reset": str(int(reset))}


@endpoint("POST /2/tweets", scope="tweet.write")
async def create_tweet(request: web.Request, headers: dict[str, str]) -> web.Response:
    world = _world(request)
    try:
        body = await request.json()
        text = str(body.get("text", ""))
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
    except (ValueError, AttributeError, TypeError):
        return invalid_request("The request body is not valid JSON", "body", "")
    if not text.strip() or len(text) > MAX_TWEET_CHARS:
        return invalid_request("text: the Tweet text must be 1 to 280 characters", "text", text[:50])
    target = world.tweet(str(reply_to)) if reply_to is not None else None
    if reply_to is not None and target is None:
        return problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you.")
    if target is not None and not target.own:
        if not target.can_reply:
            return problem(403, "Forbidden", "Reply to this conversation is not allowed because you have not been "
                           "mentioned or otherwise engaged by the author of the post you are replying to.")
        handle = request.app[XAPI].account.handle
        if request.app[XAPI].settings.reply_rule == "mentioned" and not (
                (target.reply_to_handle or "").lower() == handle.lower() or mentions(target.text, handle)):
            return problem(403, "Forbidden", "You can only reply to or quote posts where you are mentioned or are "
                           "the author.")
    app_day = request.app[XAPI].settings.app_daily_posts
    if app_day is not None:
        now = world.now()
        recent = sorted(t.created_at for t in world.run_tweets() if now - t.created_at < 86400)
        if len(recent) >= app_day:
            reset = (recent[0] + 86400) if recent else now + 86400
            return problem(429, "Too Many Requests", "Too Many Requests", headers=headers | {
                "x-app-limit-24hour-limit": str(app_day), "x-app-limit-24hour-remaining": "0",
                "x-app-limit-24hour-reset": str(int(reset))})
    if request.app[XAPI].take_fault("duplicate_v1"):
        return web.json_response({"errors": [{"code": 187, "message": "Status is a duplicate."}]}, status=403)
    try:
        forced = request.app[XAPI].faults.take_write_fault()
        if forced:
            raise WriteRefused(forced)
        tweet = world.create_tweet(text, in_reply_to=str(reply_to) if reply_to else None)
    except WriteRefused as refusal:
        return _refusal(world, refusal.mode, headers)
    usage = request.app[XAPI].today(world.now())
    usage.posts_created += 1
    usage.posts_created_url += bool(find_urls(text))
    return web.json_response({"data": {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}},
                             status=201, headers=_day_limit_headers(world, tweet.kind))


@endpoint("DELETE /2/tweets/:id", scope="tweet.write")
async def delete_tweet(request: web.Request, _: dict[str, str]) -> web.Response:
    """``{"data": {"deleted": true}}``; someone else's post 403, a post that is not there (any more) 404."""
    outcome = _world(request).delete_tweet(request.match_info["id"])
    if outcome == "not_own":
        return problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
    if outcome == "gone":
        return problem(404, "Not Found Error", f"Could not find tweet with id: [{request.match_info['id']}].",
                       type_=TWITTER_PROBLEMS + "resource-not-found")
    return web.json_response({"data": {"deleted": True}})


def _refusal(world: World, mode: str, headers: dict[str, str]) -> web.Response:
    if mode == "duplicate":
        return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
    if mode == "automation":
        return problem(403, "Forbidden", "This request looks like it might be automated. To protect our users from "
                       "spam and other malicious activity, we can't complete this action right now.")
    if mode == "daily_limit":
        return problem(429, "Too Many Requests", "Too Many Requests",
                       headers=headers | _day_limit_headers(world, spent=True))
    if mode == "rate_limit":  # the half-hourly share of the posting limit: no room left in this window
        return problem(429, "Too Many Requests", "Too Many Requests",
                       headers=headers | {"x-rate-limit-remaining": "0"})
    return problem(503, "Service Unavailable", "Service Unavailable")


# ---------------------------------------------------------------------------- admin and composition


async def admin_usage(request: web.Request) -> web.Response:
    state = request.app[XAPI]
    today = state.today(_world(request).now()).describe()
    days = [u.describe() for _, u in sorted(state.usage.items())]
    return web.json_response(today | {"limits": state.limits, "days": days,
                                      "billed_usd_total": round(sum(d["billed_usd"] for d in days), 4)})


async def admin_limits(request: web.Request) -> web.Response:
    body = await request.json()
    state = request.app[XAPI]
    name, limit = str(body.get("endpoint")), body.get("limit")
    if name not in state.limits or not isinstance(limit, int) or limit < 1:
        return web.json_response({"error": f"endpoint one of {sorted(state.limits)}, limit >= 1"}, status=400)
    state.limits[name] = limit
    state.windows = {k: v for k, v in state.windows.items() if k[1] != name}
    return web.json_response({"limits": state.limits})


async def admin_reply_rule(request: web.Request) -> web.Response:
    """``{"rule": "mentioned" | "any"}``: X's rule for programmatic replies (XApiSettings.reply_rule)."""
    state = request.app[XAPI]
    rule = str((await request.json()).get("rule"))
    if rule not in ("mentioned", "any"):
        return web.json_response({"error": "rule is 'mentioned' or 'any'"}, status=400)
    state.settings = state.settings.model_copy(update={"reply_rule": rule})
    return web.json_response({"reply_rule": rule})


PLAN_CAPS = ("monthly_post_reads", "app_daily_posts")


async def admin_plan(request: web.Request) -> web.Response:
    """``{"monthly_post_reads": N, "app_daily_posts": M}``: a plan's caps (either key; ``null``: none)."""
    state = request.app[XAPI]
    body = await request.json()
    caps = {k: body[k] for k in PLAN_CAPS if k in body}
    if not caps or any(v is not None and (not isinstance(v, int) or v < 0) for v in caps.values()):
        return web.json_response({"error": f"one of {PLAN_CAPS}: an integer >= 0, or null"}, status=400)
    state.settings = state.settings.model_copy(update=caps)
    caps = {k: getattr(state.settings, k) for k in PLAN_CAPS}
    return web.json_response(caps | {"read_this_month": state.month_reads})


async def admin_enrollment(request: web.Request) -> web.Response:
    """``{"enrollment": "project" | "free" | "none"}``: the app's standing with X (XApiSettings.enrollment)."""
    state = request.app[XAPI]
    enrollment = str((await request.json()).get("enrollment"))
    if enrollment not in ("project", "free", "none"):
        return web.json_response({"error": "enrollment is 'project', 'free' or 'none'"}, status=400)
    state.settings = state.settings.model_copy(update={"enrollment": enrollment})
    return web.json_response({"enrollment": enrollment})


async def admin_credits(request: web.Request) -> web.Response:
    """``{"usd": N}``: N dollars of credits left from now on (a top-up, or 0 to spend them); ``null``: unlimited."""
    state = request.app[XAPI]
    usd = (await request.json()).get("usd")
    if usd is not None and (not isinstance(usd, int | float) or usd < 0):
        return web.json_response({"error": "usd is a number >= 0, or null"}, status=400)
    credits = None if usd is None else state.billed_usd() + float(usd)
    state.settings = state.settings.model_copy(update={"credits_usd": credits})
    return web.json_response({"credits_usd": credits, "billed_usd": state.billed_usd()})


async def admin_expire_tokens(request: web.Request) -> web.Response:
    """Access tokens expire now (refresh tokens keep working); with ``{"revoke": true}`` refresh tokens go too."""
    state, now = request.app[XAPI], _world(request).now()
    for grant in state.access.values():
        grant.expires_at = min(grant.expires_at, now)
    revoke = bool((await request.json()).get("revoke")) if request.can_read_body else False
    if revoke:
        state.refresh.clear()
    return web.json_response({"expired": len(state.access), "refresh_revoked": revoke})


API_FAULTS = ("token_rate_limit", "duplicate_v1")


async def admin_faults(request: web.Request) -> web.Response:
    """``{"mode": …, "count": N}``: the API's next N answers of the kind refuse: ``token_rate_limit`` (the token
    endpoint answers 429), ``duplicate_v1`` (a post is refused as a duplicate in X's numbered shape, 403
    ``{"errors": [{"code": 187, "message": "Status is a duplicate."}]}``)."""
    state = request.app[XAPI]
    body = await request.json()
    mode, count = body.get("mode"), body.get("count", 1)
    if mode not in API_FAULTS or not isinstance(count, int) or count < 1:
        return web.json_response({"error": f"mode one of {API_FAULTS}, count >= 1"}, status=400)
    state.api_faults[mode] += count
    return web.json_response({"pending": dict(state.api_faults)})


def add_xapi_routes(app: web.Application, *, world: World, faults: Faults, account: SandboxSettings) -> None:
    """Mount the API on the sandbox app (sandbox/app.py), over the same world and forced faults."""
    app[XAPI] = XApiState(XApiSettings(), world, faults, account)
    r = app.router
    r.add_get("/i/oauth2/authorize", authorize_page)
    r.add_post("/i/oauth2/authorize", authorize_submit)
    r.add_post("/2/oauth2/token", token)
    r.add_get("/2/users/me", users_me)
    r.add_get("/2/users/by/username/{username}", user_by_username)
    r.add_get("/2/users/{id:[0-9]+}/tweets", user_tweets)
    r.add_get("/2/tweets/search/recent", search_recent)
    r.add_get("/2/tweets", tweets_lookup)
    r.add_post("/2/tweets", create_tweet)
    r.add_delete("/2/tweets/{id:[0-9]+}", delete_tweet)
    r.add_get("/admin/xapi/usage", admin_usage)
    r.add_post("/admin/xapi/limits", admin_limits)
    r.add_post("/admin/xapi/expire-tokens", admin_expire_tokens)
    r.add_post("/admin/xapi/reply_rule", admin_reply_rule)
    r.add_post("/admin/xapi/credits", admin_credits)
    r.add_post("/admin/xapi/plan", admin_plan)
    r.add_post("/admin/xapi/faults", admin_faults)
    r.add_post("/admin/xapi/enrollment", admin_enrollment)

