"""The API driver: the gateway's operations through the X API v2, with tweepy's asyncio client.

Each op is one or a few API calls. Before a call: the daily spend cap (spend.py) and the endpoint's rate-limit
window (ratelimits.py, from X's headers on earlier answers). After it: the headers update the window, the
resources served are charged. Every failure becomes one of the gateway's typed errors; the table is in the
README ("The X API driver") and in :func:`api_error`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
import tweepy
from oauthlib.oauth1 import Client as OAuth1Client
from pydantic import BaseModel
from tweepy.asynchronous import AsyncClient
from yarl import URL

from libs.contracts.gateway import (
    DeleteResult, DeleteTweetRequest, GatewayError, GatewayRequest, LoginCheckRequest, LoginCheckResult,
    OwnTimelineRequest, PostResult,
    PostThreadRequest, PostTweetRequest, ProfileSnapshot, ProfileSnapshotRequest, QuotedPost, ReplyRequest,
    SearchRequest, TweetCard, TweetList, TweetMetrics, TweetMetricsRequest, TweetMetricsResult, TweetRepliesRequest,
)
from libs.core.clock import Clock
from libs.core.logging import redact
from services.browser_gateway import metrics
from services.browser_gateway.drivers import DriverName
from services.browser_gateway.errors import op_error, unexpected, x_said
from services.browser_gateway.settings import GatewaySettings
from services.browser_gateway.xapi.query import to_api_search
from services.browser_gateway.xapi.ratelimits import RateLimits, seconds_until
from services.browser_gateway.xapi.spend import Prices, ResourceKind, SpendCap
from services.browser_gateway.xapi.tokens import LOGIN_HINT, OAuth2Tokens

log = logging.getLogger("xbot.browser_gateway.xapi")

# tweepy's v2 client sends every request to this host; _Rebased points it at the configured base URL instead.
TWEEPY_HOST = "https://api.twitter.com"
TWEET_FIELDS = ["created_at", "public_metrics", "author_id", "conversation_id", "in_reply_to_user_id", "lang",
                "reply_settings"]
# Where cards are read: a long post's whole text (``text`` is cut near 280 characters; ``note_tweet`` holds it
# whole, for the included posts too), and a quote post's quoted post with its author: the planner reads a reply's
# target beside what it quotes, as the web's card shows it.
CARD_FIELDS = [*TWEET_FIELDS, "note_tweet", "referenced_tweets"]
CARD_EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
# Only the author of a post may read these, and only for posts of the last 30 days.
OWN_METRIC_FIELDS = ["non_public_metrics", "organic_metrics"]
USER_FIELDS = ["username", "name", "description", "public_metrics"]

# 403s that are not about the credentials, by X's words in the problem's detail; any other 403 (but an app X does
# not let use the endpoint: not_enrolled) means the token may not do this (a scope it lacks), which a person fixes
# by signing in again with the right access.
_FORBIDDEN_WORDS = (
    ("duplicate content", "duplicate"),
    ("locked", "locked"),
    ("suspended", "locked"),
    ("automated", "automation_block"),
    # A reply X will not take to that post: gone, its author limits who can reply, or (since 2026-02-23) a
    # programmatic reply to a post that does not mention the account. The target's doing, not the token's.
    ("deleted or not visible", "reply_not_allowed"),
    ("where you are mentioned or are the author", "reply_not_allowed"),
    ("reply to this conversation is not allowed", "reply_not_allowed"),
    ("restricted who can reply", "reply_not_allowed"),
    ("not allowed to reply", "reply_not_allowed"),
    # Someone else's post: nothing was deleted, and asking again changes nothing.
    ("not allowed to delete", "invalid_content"),
)
# X's numbered errors (its v1.1 shape, ``{"errors": [{"code": 187, "message": "Status is a duplicate."}]}``, which
# a v2 write can still be answered with; tweepy's ``api_codes``), by X's list of error codes.
_FORBIDDEN_CODES = {187: "duplicate", 186: "invalid_content", 185: "daily_limit", 226: "automation_block",
                    326: "locked", 64: "locked", 385: "reply_not_allowed", 433: "reply_not_allowed"}


# After X said the API's paid allowance is spent the driver asks again only this much later (simulated seconds);
# the ops between are refused without a call.
CREDITS_RETRY_S = 3600.0
CREDITS_HINT = ("the X API app's credits or its plan's monthly cap are spent: top up or change the plan in X's "
                "developer console; the gateway asks X again every hour")
NOT_ENROLLED_HINT = ("X does not let the app use this endpoint (client-not-enrolled: the app is not attached to a "
                     "project, or its access level, as the free tier's for reads, does not include it): attach it "
                     "or change the access level in X's developer console, signing in again does not help; the "
                     "gateway asks X again every hour")


def allowance_spent(status: int, detail: str, headers: Mapping[str, str],
                    body: Mapping[str, Any] | None = None) -> bool:
    """X's answer that the app may not spend more: 402 CreditsDepleted (pay-per-use), a plan's monthly cap (429,
    sometimes 403, "Usage cap exceeded: Monthly product cap"), the app's 24-hour post limit, which X counts over
    every account using the app (429 with ``x-app-limit-24hour-remaining: 0``; a small plan's is 17 posts), or an
    app X does not let use the endpoint at all (:func:`not_enrolled`)."""
    return status == 402 or (status in (403, 429) and "usage cap exceeded" in detail.lower()) \
        or app_day_spent(status, headers) or not_enrolled(status, body or {})


def app_day_spent(status: int, headers: Mapping[str, str]) -> bool:
    return status == 429 and headers.get("x-app-limit-24hour-remaining") == "0"


def not_enrolled(status: int, body: Mapping[str, Any]) -> bool:
    """X's 403 problem ``client-forbidden`` with reason ``client-not-enrolled``: the app is not attached to a
    project, or its access level does not include the endpoint (the free tier's reads). The app's configuration,
    which only the owner can change in X's developer console: not the token's (signing in again gets the same)."""
    return status == 403 and str(body.get("type", "")).endswith("/problems/client-forbidden") \
        and body.get("reason") == "client-not-enrolled"


class _Rebased:
    """Stands for tweepy's aiohttp session (it only calls ``request``) and sends each request to ``base_url``
    instead of tweepy's fixed host: the sandbox, or X at the host the settings name.

    An OAuth 1.0a signature covers the request's URL, host included: tweepy signed its own host, and X checks the
    signature against the URL it received (401 to every call otherwise), so such a request is signed again, with
    the same credentials, for the URL it is sent to. tweepy has already written the query's colons as %3A (what
    oauthlib signs and aiohttp would otherwise leave as they are), and the URL is sent as it is signed."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, *, oauth1: OAuth1Client | None = None) -> None:
        self.http = http
        self.base_url = base_url
        self.oauth1 = oauth1

    def request(self, method: str, url: str | URL, **kwargs: Any) -> Any:
        text = str(url)
        if text.startswith(TWEEPY_HOST):
            rebased = self.base_url + text[len(TWEEPY_HOST):]
            url = URL(rebased, encoded=True) if isinstance(url, URL) else rebased
            headers = dict(kwargs.get("headers") or {})
            if self.oauth1 is not None and str(headers.pop("Authorization", "")).startswith("OAuth "):
                kwargs["headers"] = self.oauth1.sign(rebased, method, headers=headers)[1]
        return self.http.request(method, url, **kwargs)


def _detail(err: tweepy.HTTPException) -> str:
    return "; ".join(str(m) for m in err.api_messages) or str(err).splitlines()[0]


async def _answer_of(err: tweepy.HTTPException) -> dict[str, Any]:
    """The error answer's JSON object (tweepy keeps only its errors' codes and messages, not the problem's type
    and reason); tweepy has read the body, so this reads no more from X."""
    try:
        body = await err.response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return {}
    return body if isinstance(body, dict) else {}


def api_error(op: str, status: int, detail: str, headers: Mapping[str, str], *,
              retry_after_s: float | None = None, body: Mapping[str, Any] | None = None) -> GatewayError:
    """The typed error of an X API answer that is not a success (the README's table); ``body`` is the answer's
    JSON, whose problem type and reason, and numbered errors, say more than its words."""
    body = body or {}
    said = f"{op}: X API {status}: {detail}"
    if allowance_spent(status, detail, headers, body):
        # X's pay-per-use credits are spent (402 CreditsDepleted), a plan's monthly usage cap is reached (429
        # UsageCapExceeded), or the app's 24-hour post limit: nothing of the kind goes through until the owner tops
        # up, the month turns or the app's day does. Like the gateway's own spend cap, a refusal with a time to ask
        # again, not the account's health (a 429 read as rate_limited or daily_limit would raise its risk level)
        # and not the item's fault (it waits, it is not failed).
        hint = "the X API app's 24-hour post limit, counted over every account using the app" \
            if app_day_spent(status, headers) else NOT_ENROLLED_HINT if not_enrolled(status, body) else CREDITS_HINT
        return GatewayError("budget_exhausted", f"{said} ({hint})", retryable=True,
                            retry_after_s=retry_after_s or CREDITS_RETRY_S)
    if status == 401:
        return GatewayError("session_expired", f"{said} ({LOGIN_HINT})", retryable=False)
    if status == 403:
        lowered = detail.lower()
        codes = [e.get("code") for e in body.get("errors") or [] if isinstance(e, dict)]
        code = next((_FORBIDDEN_CODES[c] for c in codes if c in _FORBIDDEN_CODES), None) \
            or next((c for words, c in _FORBIDDEN_WORDS if words in lowered), "session_expired")
        if code == "session_expired":
            return GatewayError(code, f"{said} (the token may not do this: {LOGIN_HINT})", retryable=False)
        return op_error(code, said)
    if status == 429:
        if headers.get("x-user-limit-24hour-remaining") == "0":
            return GatewayError("daily_limit", said, retryable=False, retry_after_s=retry_after_s)
        return GatewayError("rate_limited", said, retryable=True, retry_after_s=retry_after_s)
    if status >= 500:
        return x_said("timeout", said)
    if status == 400 and "is not one of" not in detail:
        # One request's values X will not take (a query too long, an operator it does not have, times out of the
        # window): that op fails, the others go on. It was dom_changed, whose breaker stopped every op.
        return op_error("invalid_content", said)
    # 404, and a 400 naming a parameter X does not know: the API is not as the driver knows it (a changed API):
    # like a changed DOM, a person or a new release has to act.
    return op_error("dom_changed", said)


class ApiDriver:
    name: DriverName = "api"

    def __init__(self, settings: GatewaySettings, clock: Clock, *,
                 spend: SpendCap | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.rate_limits = RateLimits()
        self.spend = spend or SpendCap(
            clock, prices=Prices(post_read=settings.x_api_price_post_read,
                                 user_read=settings.x_api_price_user_read,
                                 post_create=settings.x_api_price_post_create,
                                 post_create_url=settings.x_api_price_post_create_url),
            daily_cap_usd=settings.x_api_daily_cap_usd, read_share=settings.x_api_read_share)
        self.oauth2: OAuth2Tokens | None = None if settings.uses_oauth1 else OAuth2Tokens(settings, clock)
        secrets = [settings.x_api_client_secret, settings.x_api_consumer_key, settings.x_api_consumer_secret,
                   settings.x_api_access_token, settings.x_api_access_token_secret]
        redact(*(s.get_secret_value() for s in secrets if s is not None))
        self.http: aiohttp.ClientSession | None = None
        self.client: AsyncClient | None = None
        self._me: tuple[str, str] | None = None  # (user id, username), read once
        # X's rule for programmatic replies as the driver applies it: the setting, until X enforces "mentioned".
        self.reply_rule = settings.x_api_reply_rule
        # After X said the paid allowance is spent: no call of the kind before this (clock timestamp).
        self.spent_until = {"reads": 0.0, "writes": 0.0, "all": 0.0}
        # Set by the gateway: raises (writes_paused) when the kill switch stops a thread between two parts.
        self.before_thread_part: Callable[[str, int], Awaitable[None]] | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        s = self.settings
        timeout = aiohttp.ClientTimeout(total=s.call_timeout_real.total_seconds())
        self.http = aiohttp.ClientSession(timeout=timeout)
        oauth1 = None
        if s.uses_oauth1:
            assert s.x_api_consumer_key and s.x_api_consumer_secret and s.x_api_access_token \
                and s.x_api_access_token_secret
            credentials = (s.x_api_consumer_key.get_secret_value(), s.x_api_consumer_secret.get_secret_value(),
                           s.x_api_access_token.get_secret_value(), s.x_api_access_token_secret.get_secret_value())
            self.client = AsyncClient(None, *credentials, return_type=aiohttp.ClientResponse)
            oauth1 = OAuth1Client(*credentials)
        else:
            self.client = AsyncClient(return_type=aiohttp.ClientResponse)
        self.client.session = _Rebased(self.http, s.api_base_url, oauth1=oauth1)

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()

    async def reload_session(self) -> None:
        if self.oauth2 is not None:
            self.oauth2.reload()
        self._me = None

    def session_hint(self) -> str:
        return LOGIN_HINT

    def status(self) -> dict[str, Any]:
        """Today's spend against the cap and what X's rate-limit headers last said (`xbot status`)."""
        spend, now = self.spend, self.clock.timestamp()
        return {
            "spend_usd_today": round(spend.spent_today(), 4), "daily_cap_usd": spend.daily_cap_usd,
            "reads_stop_at_usd": round(spend.daily_cap_usd * spend.read_share, 4),
            "charged_today": spend.ledger.counts(spend.today()),
            "rate_limits": {endpoint: f"{w.remaining}/{w.limit} (reset in {max(0, w.reset_at - now):.0f}s)"
                            for endpoint, w in sorted(self.rate_limits.windows.items())},
        }

    # ------------------------------------------------------------ the op run

    async def perform(self, request: GatewayRequest) -> BaseModel:
        deadline = asyncio.get_running_loop().time() + self.settings.op_timeout_real.total_seconds()
        op: Callable[[Any, float], Awaitable[BaseModel]] = getattr(self, f"_{request.OP}")
        try:
            return await asyncio.wait_for(op(request, deadline), self.settings.op_timeout_real.total_seconds())
        except GatewayError:
            raise
        except TimeoutError:
            limit = self.settings.op_timeout_real.total_seconds()
            raise op_error("timeout", f"{request.OP} exceeded {limit:.0f}s") from None
        except Exception as err:  # noqa: BLE001 - a bug or a surprise (a field X left out): answer it
            log.exception("%s failed unexpectedly", request.OP)
            raise unexpected(request.OP, err) from None

    @property
    def _user_auth(self) -> bool:
        return self.settings.uses_oauth1

    async def _call(self, op: str, endpoint: str, call: Callable[[], Awaitable[aiohttp.ClientResponse]],
                    deadline: float, *, needed: int = 1, gone_ok: bool = False) -> dict[str, Any]:
        """One API call: waits for the endpoint's window (or refuses when the wait outlasts ``deadline``),
        authorises, sends, reads X's headers; the JSON answer or a typed GatewayError. With ``gone_ok`` a 404
        (the resource is not there) is the answer ``{}``, not an error."""
        assert self.client is not None and self.http is not None, "driver not started"
        kind = "reads" if endpoint.startswith("GET ") else "writes"
        wait = max(self.spent_until[k] for k in (kind, "all")) - self.clock.timestamp()
        if wait > 0:
            raise GatewayError("budget_exhausted", f"{op}: not sent: X said the API's allowance for {kind} is "
                               f"spent; asking again in {wait:.0f} s ({CREDITS_HINT})", retryable=True,
                               retry_after_s=wait)
        refreshed = False
        for _ in range(4):  # a window's wait, a refresh after a 401 and a 429's wait, at most
            await self._wait_for_window(op, endpoint, deadline, needed)
            stale = None
            if self.oauth2 is not None:
                self.client.bearer_token = await self.oauth2.bearer(self.http)
                stale = self.oauth2.tokens
            try:
                resp = await call()
            except tweepy.HTTPException as err:
                headers = err.response.headers
                self._note(endpoint, headers)
                status = err.response.status
                answer = await _answer_of(err)
                if allowance_spent(status, _detail(err), headers, answer):
                    # Credits stop every call; a monthly cap the kind of call it caps (a plan caps reads); the
                    # app's day its posts, until the reset X gives.
                    app_day = app_day_spent(status, headers)
                    wait = (self._retry_after(headers, ("x-app-limit-24hour-reset",)) if app_day else None) \
                        or CREDITS_RETRY_S
                    metrics.api_credits_depleted.inc()
                    self.spent_until["all" if status == 402 else kind] = self.clock.timestamp() + wait
                    log.error("ALERT X API allowance spent (%d on %s): %s", status, endpoint, _detail(err))
                    raise api_error(op, status, _detail(err), headers, retry_after_s=wait, body=answer) from None
                if status == 404 and gone_ok:
                    return {}
                if status == 401 and self.oauth2 is not None and not refreshed:
                    # Revoked or expired early: one refresh, then the same call once more.
                    refreshed = True
                    await self.oauth2.refresh(self.http, stale=stale)
                    continue
                if status == 429 and headers.get("x-user-limit-24hour-remaining") != "0" \
                        and self.rate_limits.wait_s(endpoint, self.clock.timestamp(), needed) > 0:
                    continue  # _wait_for_window waits for the reset X just gave, or refuses
                raise api_error(op, status, _detail(err), headers, retry_after_s=self._retry_after(headers),
                                body=answer) from None
            except aiohttp.ContentTypeError as err:  # an error answer that is not JSON (a proxy's page)
                raise api_error(op, err.status, "an answer that is not JSON", {}) from None
            except (aiohttp.ClientError, TimeoutError, OSError) as err:
                raise op_error("timeout", f"{op}: X API unreachable: {type(err).__name__}: {err}") from None
            self._note(endpoint, resp.headers)
            body = await resp.json(content_type=None)
            if not isinstance(body, dict):
                raise op_error("dom_changed", f"{op}: X API answered {type(body).__name__}, not an object")
            return body
        raise op_error("rate_limited", f"{op}: X API kept answering 429 for {endpoint}")

    def _note(self, endpoint: str, headers: Mapping[str, str]) -> None:
        window = self.rate_limits.update(endpoint, headers)
        if window is not None:
            metrics.api_rate_remaining.labels(endpoint=endpoint).set(window.remaining)

    def _retry_after(self, headers: Mapping[str, str],
                     names: tuple[str, ...] = ("x-user-limit-24hour-reset", "x-rate-limit-reset")) -> float | None:
        return seconds_until(headers, names, self.clock.timestamp())

    async def _wait_for_window(self, op: str, endpoint: str, deadline: float, needed: int) -> None:
        wait = self.rate_limits.wait_s(endpoint, self.clock.timestamp(), needed)
        if wait <= 0:
            return
        real = self.clock.real_seconds(wait) + 0.05
        if asyncio.get_running_loop().time() + real > deadline:
            raise GatewayError("rate_limited", f"{op}: X API window of {endpoint} is used up for "
                                               f"{wait:.0f}s more", retryable=True, retry_after_s=wait)
        await asyncio.sleep(real)

    def _charge(self, kind: ResourceKind, ids: list[str]) -> None:
        if ids:
            metrics.api_spend_total.inc(self.spend.charge(kind, ids))
            metrics.api_charged.labels(kind=kind).inc(len(ids))
            metrics.api_spend_usd.set(self.spend.spent_today())

    def _charge_answer(self, body: dict[str, Any], *, users_in_data: bool = False) -> None:
        data = body.get("data")
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        includes = body.get("includes") or {}
        posts = [] if users_in_data else [str(d["id"]) for d in items if "id" in d]
        users = [str(d["id"]) for d in items if "id" in d] if users_in_data else []
        posts += [str(t["id"]) for t in includes.get("tweets", []) if "id" in t]
        users += [str(u["id"]) for u in includes.get("users", []) if "id" in u]
        self._charge("post_read", posts)
        self._charge("user_read", users)

    # ------------------------------------------------------------ reads

    def _client(self) -> AsyncClient:
        assert self.client is not None, "driver not started"
        return self.client

    async def _me_ids(self, op: str, deadline: float) -> tuple[str, str]:
        if self._me is None:
            client = self._client()
            self.spend.hold_read(users=1)
            body = await self._call(op, "GET /2/users/me", lambda: client.get_me(
                user_fields=["username"], user_auth=self._user_auth), deadline)
            self._charge_answer(body, users_in_data=True)
            data = body.get("data") or {}
            self._me = (str(data["id"]), str(data["username"]))
        return self._me

    async def _login_check(self, request: LoginCheckRequest, deadline: float) -> LoginCheckResult:
        self._me = None  # a login check asks X again
        try:
            _, username = await self._me_ids(request.OP, deadline)
        except GatewayError as err:
            if err.code == "session_expired":
                return LoginCheckResult(logged_in=False)
            raise
        return LoginCheckResult(logged_in=True, handle=username)

    async def _tweet_metrics(self, request: TweetMetricsRequest, deadline: float) -> TweetMetricsResult:
        found, field_refused = await self._lookup(request.OP, request.ids, TWEET_FIELDS + OWN_METRIC_FIELDS,
                                                  deadline)
        # X refuses the author's metrics of someone else's post (or of one older than 30 days) and leaves the
        # post out: those are asked again for their public metrics (same posts, same day: not charged twice).
        refused = [i for i in request.ids if i not in found and i in field_refused]
        if refused:
            found |= (await self._lookup(request.OP, refused, TWEET_FIELDS, deadline))[0]
        # Ids X could not find (deleted) are left out, as the browser leaves out a missing status page.
        read_at = self.clock.now()  # one lookup answers for every post (two when some were refused: moments apart)
        return TweetMetricsResult(items=[_metrics(found[i], read_at) for i in request.ids if i in found])

    async def _lookup(self, op: str, ids: list[str], fields: list[str],
                      deadline: float) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """The posts X found by id, and the ids whose fields X refused to show."""
        client = self._client()
        self.spend.hold_read(posts=len(ids))
        body = await self._call(op, "GET /2/tweets", lambda: client.get_tweets(
            ids, tweet_fields=fields, user_auth=self._user_auth), deadline)
        self._charge_answer(body)
        refused = {str(e.get("resource_id") or e.get("value")) for e in body.get("errors") or []
                   if str(e.get("type", "")).endswith("/not-authorized-for-field")}
        return {str(t["id"]): t for t in body.get("data") or []}, refused

    async def _profile_snapshot(self, request: ProfileSnapshotRequest, deadline: float) -> ProfileSnapshot:
        client = self._client()
        self.spend.hold_read(users=1)
        body = await self._call(request.OP, "GET /2/users/by/username/:username", lambda: client.get_user(
            username=request.handle, user_fields=USER_FIELDS, user_auth=self._user_auth), deadline)
        self._charge_answer(body, users_in_data=True)
        user = body.get("data")
        if not user:
            # X's answer for a suspended, deactivated or renamed account: a problem about that user, no data.
            raise x_said("account_gone", f"{request.OP}: @{request.handle} is not on X: "
                                         f"{_problems(body) or 'no user in the answer'}")
        counts = user.get("public_metrics") or {}
        return ProfileSnapshot(handle=str(user["username"]), display_name=str(user.get("name") or user["username"]),
                               bio=str(user.get("description") or ""),
                               followers=int(counts.get("followers_count", 0)),
                               following=int(counts.get("following_count", 0)))

    async def _search(self, request: SearchRequest, deadline: float) -> TweetList:
        client = self._client()
        search = to_api_search(request.query)
        window = search.window(self.clock.now())
        if window is None:
            return TweetList(tweets=[])  # nothing of its time span is in the 7 days recent search covers
        start, end = window
        # Recent search returns 10 to 100 posts a page. Thresholds it cannot apply are applied to a full page.
        page = 100 if search.filters_locally else min(100, max(10, request.limit))
        # Each post may bring a new author, and the post it quotes or answers with that post's author (X bills
        # expanded resources too). A page the reads' room cannot pay for in the worst case is made smaller (down
        # to X's minimum of 10) rather than refused: at the default cap a full page would stop searching
        # (harvesting) for the day once writes had spent a few dimes (seen in the demo).
        prices = self.spend.prices
        page = max(10, min(page, int(self.spend.read_room() / (2 * (prices.post_read + prices.user_read)) + 1e-9)))
        self.spend.hold_read(posts=2 * page, users=2 * page)
        body = await self._call(request.OP, "GET /2/tweets/search/recent", lambda: client.search_recent_tweets(
            search.query, max_results=page, sort_order="recency" if request.tab == "latest" else "relevancy",
            start_time=start, end_time=end, tweet_fields=CARD_FIELDS, expansions=CARD_EXPANSIONS,
            user_fields=["username"], user_auth=self._user_auth), deadline)
        self._charge_answer(body)
        me = await self._me_ids(request.OP, deadline)
        cards = _cards(body, body.get("data") or [], me=me, rule=self.reply_rule)
        kept = [c for c in cards if search.keeps(c.likes, c.retweets, c.replies)]
        return TweetList(tweets=kept[:request.limit])

    async def _own_timeline(self, request: OwnTimelineRequest, deadline: float) -> TweetList:
        client = self._client()
        user_id, username = await self._me_ids(request.OP, deadline)
        page = min(100, max(5, request.limit))
        self.spend.hold_read(posts=page)
        # A long post of its own (posted on X by hand) whole. No expansions: the account's replies to others,
        # dropped below, would each bring the post they answer and its author, paid for.
        body = await self._call(request.OP, "GET /2/users/:id/tweets", lambda: client.get_users_tweets(
            user_id, max_results=page, exclude=["retweets"],
            tweet_fields=[*TWEET_FIELDS, "note_tweet"], user_auth=self._user_auth), deadline)
        self._charge_answer(body)
        # The profile's Posts tab: own posts and own thread parts, not replies to others.
        mine = [t for t in body.get("data") or [] if t.get("in_reply_to_user_id") in (None, user_id)]
        return TweetList(tweets=[_card(t, username) for t in mine][:request.limit])

    async def _tweet_replies(self, request: TweetRepliesRequest, deadline: float) -> TweetList:
        """Direct replies to one of our tweets: recent search on its conversation (the API's
        ``conversation_id:`` operator, which takes a conversation's root: the request's ``conversation_id`` for a
        reply of ours; 7 days back, as the harvest), keeping those that answer the tweet itself. Under a busy
        stranger's tweet the newest 100 of its conversation may not reach back to the replies ours got."""
        client = self._client()
        page = min(100, max(10, request.limit))
        self.spend.hold_read(posts=2 * page, users=2 * page)  # with the posts they answer or quote (_search)
        body = await self._call(request.OP, "GET /2/tweets/search/recent", lambda: client.search_recent_tweets(
            f"conversation_id:{request.conversation_id or request.tweet_id}", max_results=page, sort_order="recency",
            tweet_fields=CARD_FIELDS, expansions=CARD_EXPANSIONS, user_fields=["username"],
            user_auth=self._user_auth), deadline)
        self._charge_answer(body)
        direct = [t for t in body.get("data") or []
                  if any(r.get("type") == "replied_to" and str(r.get("id")) == request.tweet_id
                         for r in t.get("referenced_tweets") or [])]
        me = await self._me_ids(request.OP, deadline)
        cards = _cards(body, list(reversed(direct)), me=me, rule=self.reply_rule)  # oldest first
        return TweetList(tweets=cards[:request.limit])

    # ------------------------------------------------------------ writes

    async def _create(self, op: str, text: str, deadline: float, *, in_reply_to: str | None = None) -> str:
        client = self._client()
        now, day = self.clock.timestamp(), self.rate_limits.daily_posts
        if day is not None and self.rate_limits.daily_exhausted(now):
            # X said on an earlier answer that the account's 24-hour posting limit is used up: another post would
            # only draw X's 429, one more strike against the account. Refused here, till X's reset.
            raise GatewayError("daily_limit", f"{op}: not sent: X said the account's 24-hour posting limit is used "
                               f"up (x-user-limit-24hour-remaining: 0); it resets in {day.reset_at - now:.0f} s",
                               retryable=False, retry_after_s=day.reset_at - now)
        kind = self.spend.prices.post_create_kind(text)
        self.spend.hold(writes=True, cost=self.spend.prices.of(kind))
        body = await self._call(op, "POST /2/tweets", lambda: client.create_tweet(
            text=text, in_reply_to_tweet_id=in_reply_to, user_auth=self._user_auth), deadline)
        data = body.get("data") or {}
        if "id" not in data:
            # Posted or not, nobody can tell from this answer: the caller reconciles by reading back.
            raise x_said("timeout", f"{op}: X API answered without the new post's id: {_problems(body)}")
        tweet_id = str(data["id"])
        self._charge(kind, [tweet_id])
        return tweet_id

    async def _post_tweet(self, request: PostTweetRequest, deadline: float) -> PostResult:
        return PostResult(tweet_ids=[await self._create(request.OP, request.text, deadline)],
                          id_source="create_tweet_response")

    async def _reply(self, request: ReplyRequest, deadline: float) -> PostResult:
        try:
            tweet_id = await self._create(request.OP, request.text, deadline, in_reply_to=request.tweet_id)
        except GatewayError as err:
            if err.code == "reply_not_allowed" and "where you are mentioned" in err.message \
                    and self.reply_rule != "mentioned":
                # The setting says this app may answer any post; X says it may not: believe X, so that the
                # harvest stops offering posts every reply to which is refused (and drafted for nothing).
                log.warning("X enforces its rule for programmatic replies (only to posts that mention the account) "
                            "although XBOT_X_API_REPLY_RULE=%s: applying it from now on", self.reply_rule)
                self.reply_rule = "mentioned"
            raise
        return PostResult(tweet_ids=[tweet_id], id_source="create_tweet_response")

    async def _delete_tweet(self, request: DeleteTweetRequest, deadline: float) -> DeleteResult:
        """``DELETE /2/tweets/:id``: ``{"data": {"deleted": true}}``; a post already gone (404, or ``deleted``
        false) is a success, as the browser's missing status page is. X charges nothing for a deletion, but it
        stops with the writes at the spend cap like every write."""
        client = self._client()
        self.spend.hold(writes=True)
        body = await self._call(request.OP, "DELETE /2/tweets/:id", lambda: client.delete_tweet(
            request.tweet_id, user_auth=self._user_auth), deadline, gone_ok=True)
        deleted = (body.get("data") or {}).get("deleted")
        return DeleteResult(tweet_id=request.tweet_id, already_gone=deleted is not True)

    async def _post_thread(self, request: PostThreadRequest, deadline: float) -> PostResult:
        """A reply chain. Room for every part (spend and window) is checked first, so neither splits a thread;
        a part refused midway is an error that names the parts already posted (they stay on X)."""
        prices = self.spend.prices
        self.spend.hold(writes=True, cost=sum(prices.of(prices.post_create_kind(p)) for p in request.parts))
        await self._wait_for_window(request.OP, "POST /2/tweets", deadline, len(request.parts))
        ids: list[str] = []
        for index, part in enumerate(request.parts):
            try:
                if index and self.before_thread_part is not None:
                    await self.before_thread_part(request.OP, index)  # the gateway's kill switch, per part
                ids.append(await self._create(request.OP, part, deadline, in_reply_to=ids[-1] if ids else None))
            except GatewayError as err:
                if ids:
                    err.message = f"{err.message} (thread broken after part {len(ids)} of {len(request.parts)}: " \
                                  f"posted {', '.join(ids)})"
                    err.args = (f"{err.code}: {err.message}",)
                raise
        return PostResult(tweet_ids=ids, id_source="create_tweet_response")


def _problems(body: dict[str, Any]) -> str:
    return "; ".join(str(e.get("detail") or e.get("message") or e) for e in body.get("errors") or [])


def _counts(tweet: dict[str, Any]) -> tuple[int, int, int, int]:
    m = tweet.get("public_metrics") or {}
    # X's SDK names it repost_count from its 2026 specification on; retweet_count before.
    retweets = m.get("retweet_count", m.get("repost_count", 0))
    return int(m.get("like_count", 0)), int(retweets), int(m.get("reply_count", 0)), \
        int(m.get("impression_count", 0))


def _metrics(tweet: dict[str, Any], read_at: datetime) -> TweetMetrics:
    likes, retweets, replies, views = _counts(tweet)
    own = tweet.get("non_public_metrics") or {}
    return TweetMetrics(tweet_id=str(tweet["id"]), likes=likes, retweets=retweets, replies=replies, views=views,
                        profile_clicks=own.get("user_profile_clicks"), link_clicks=own.get("url_link_clicks"),
                        read_at=read_at)


def can_reply(tweet: dict[str, Any], *, me: tuple[str, str], rule: str) -> bool | None:
    """Whether X lets the account (``me``: user id, username) reply to ``tweet`` through the API: its own post
    always; a post whose author limits who can reply (``reply_settings`` other than "everyone") only when that
    is "mentionedUsers" and it mentions the account ("following": whom the author follows cannot be told, so no);
    under the "mentioned" rule (X's since 2026-02-23) only a post that mentions the account, which a reply to one
    of its posts does. None when X did not say (no ``reply_settings``) and the rule is "any"."""
    user_id, username = me
    if str(tweet.get("author_id")) == user_id:
        return True
    mentioned = str(tweet.get("in_reply_to_user_id")) == user_id or re.search(
        rf"(?<![\w@])@{re.escape(username)}(?!\w)", str(tweet.get("text", "")), re.IGNORECASE) is not None
    settings = tweet.get("reply_settings")
    if settings not in (None, "everyone") and not (settings == "mentionedUsers" and mentioned):
        return False
    if rule == "mentioned":
        return mentioned
    return None if settings is None else True


def _text(tweet: dict[str, Any]) -> str:
    """A post's whole text: a long post's ``text`` is cut near 280 characters, ``note_tweet`` holds all of it."""
    return str((tweet.get("note_tweet") or {}).get("text") or tweet.get("text", ""))


def _cards(body: dict[str, Any], tweets: list[dict[str, Any]], *, me: tuple[str, str],
           rule: str) -> list[TweetCard]:
    """Cards of ``tweets`` (of an answer asked with CARD_EXPANSIONS): authors and quoted posts from its includes."""
    includes = body.get("includes") or {}
    handles = {str(u["id"]): str(u["username"]) for u in includes.get("users", [])}
    posts = {str(t["id"]): t for t in includes.get("tweets", [])}
    return [_card(t, handles.get(str(t.get("author_id")), ""), me=me, rule=rule,
                  quoted=_quoted(t, posts, handles)) for t in tweets]


def _quoted(tweet: dict[str, Any], posts: dict[str, dict[str, Any]], handles: dict[str, str]) -> QuotedPost | None:
    ref = next((str(r.get("id")) for r in tweet.get("referenced_tweets") or [] if r.get("type") == "quoted"), None)
    if ref is None:
        return None
    quoted = posts.get(ref)
    if quoted is None:
        # X leaves out a quoted post it cannot show (deleted; its author protected or suspended) and names it in
        # the answer's errors: the web's "This post is unavailable."
        return QuotedPost(author=None, text="")
    return QuotedPost(author=handles.get(str(quoted.get("author_id"))), text=_text(quoted))


def _card(tweet: dict[str, Any], author: str, *, me: tuple[str, str] | None = None,
          rule: str = "mentioned", quoted: QuotedPost | None = None) -> TweetCard:
    likes, retweets, replies, views = _counts(tweet)
    created = tweet.get("created_at")
    if created:  # the web's <time datetime> form, as the browser reports it
        created = datetime.fromisoformat(str(created).replace("Z", "+00:00")).astimezone(UTC) \
            .strftime("%Y-%m-%dT%H:%M:%S.000Z")
    # The text is whole (note_tweet), never the timeline's "Show more" cut: truncated stays False.
    return TweetCard(tweet_id=str(tweet["id"]), author=author, text=_text(tweet), created_at=created,
                     likes=likes, retweets=retweets, replies=replies, views=views,
                     can_reply=can_reply(tweet, me=me, rule=rule) if me is not None else None, quoted=quoted,
                     truncated=False)
