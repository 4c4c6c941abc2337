"""The sandbox's web app: X's web client look-alike, the admin API, and (mounted from their modules) the text
endpoint and the ground-truth API. ``build_app`` is the composition root; ``start_sandbox`` runs it in-process."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import jinja2
from aiohttp import web

from libs.core.clock import Clock
from libs.core.settings import CommonSettings, load_settings
from libs.core.totp import authenticator
from sandbox import xformat
from sandbox.activity import Activity
from sandbox.ads import Ad, with_ad
from sandbox.audience import AudienceModel
from sandbox.conversations import ANSWER_FOLLOW
from sandbox.faults import Faults
from sandbox.settings import SandboxSettings
from sandbox.sheets import SHEETS, Sheet, drawn_sheet
from sandbox.store import OwnTweet, Served, Store
from sandbox.world import REFUSALS, TweetView, World, WriteRefused, normalise
from sandbox.feeds import add_feed_routes
from sandbox.xapi import add_xapi_routes

HERE = Path(__file__).parent
# X's web client posts through this persisted GraphQL query; the id is opaque, any value routes the same here.
CREATE_TWEET_QUERY_ID = "oB-5XsHNAbjvARJEc8CZFw"
LOGIN_PATH = "/i/flow/login"
LOCKED_PATH = "/account/access"
# X's API error codes for each refusal; the client turns them back into X's words (REFUSALS).
ERROR_CODES = {"duplicate": 187, "daily_limit": 185, "rate_limit": 88, "automation": 226, "error": 131,
               "reply_restricted": 433}
API_MESSAGES = {
    "duplicate": "Authorization: Status is a duplicate. (187)",
    "daily_limit": "Authorization: User is over daily status update limit. (185)",
    "rate_limit": "Rate limit exceeded",
    "automation": "Authorization: This request looks like it might be automated. (226)",
    "error": "Internal error",
    "reply_restricted": "The original Tweet author restricted who can reply to this Tweet.",
}
HTTP_STATUS = {"rate_limit": 429, "error": 500}
# What X answered in July 2023 once an account had read its limit (docs/sandbox.md, "The reading limit"): the web
# client's GraphQL reads get 429 with this body; the page keeps its frame, shows no posts and toasts the notice.
READ_LIMIT_BODY = {"errors": [{"code": 88, "message": "Rate limit exceeded."}]}
READ_LIMIT_TOAST = "Sorry, you are rate limited. Please wait a few moments then try again."
READ_LIMIT_TIMELINE = "Cannot retrieve posts at this time."
# The GraphQL reads of X's web client, by what they show (the same kinds as the pages).
GRAPHQL_READS = {"HomeTimeline": "home", "SearchTimeline": "search", "TweetDetail": "status",
                 "UserTweets": "profile"}
# Paths that are not X's pages: no session, no DOM variant, no latency but the X API's. /2/ and /i/oauth2/ are the X
# API (sandbox/xapi.py), which authenticates with its own tokens.
API_PREFIXES = ("/2/", "/i/oauth2/")
SERVICE_PREFIXES = ("/admin", "/sim", "/v1", "/static", "/feeds/", *API_PREFIXES)
PUBLIC_PAGES = (LOGIN_PATH, "/login", LOCKED_PATH, "/logout")

WORLD = web.AppKey("world", World)
ACTIVITY = web.AppKey("activity", Activity)
FAULTS = web.AppKey("faults", Faults)
SETTINGS = web.AppKey("settings", SandboxSettings)
STORE = web.AppKey("store", Store)
TEMPLATES = web.AppKey("templates", jinja2.Environment)


def _is_service(path: str) -> bool:
    return path.startswith(SERVICE_PREFIXES)


def _session_ok(request: web.Request) -> bool:
    token = request.cookies.get("auth_token")
    return bool(token) and request.app[STORE].session_ct0(token) is not None


def _locked(app: web.Application) -> bool:
    """Locked by the admin (until reset) or by the suspicion model (until the lock expires)."""
    return app[FAULTS].locked or app[ACTIVITY].lock_until(app[WORLD].now()) is not None


@web.middleware
async def latency_middleware(request: web.Request, handler):
    ms = request.app[FAULTS].latency_ms
    # The X API is reached over the same network as the pages: it answers late too (an API write still in flight
    # when its caller dies is the exactly-once case of the API driver).
    if ms and (not _is_service(request.path) or request.path.startswith(API_PREFIXES)):
        await asyncio.sleep(ms / 1000)  # real milliseconds: it models the network, not the world
    return await handler(request)


@web.middleware
async def admin_middleware(request: web.Request, handler):
    if request.path.startswith("/admin/"):
        expected = f"Bearer {request.app[SETTINGS].admin_token.get_secret_value()}"
        if not secrets.compare_digest(request.headers.get("Authorization", ""), expected):
            return web.json_response({"error": "admin token required"}, status=401)
    return await handler(request)


@web.middleware
async def session_middleware(request: web.Request, handler):
    """Pages need a live session (else X sends you to log in) and an unlocked account."""
    path = request.path
    if _is_service(path) or path in PUBLIC_PAGES:
        return await handler(request)
    # A timeline's batches stand for X's GraphQL reads (TweetDetail, UserTweets, SearchTimeline): answered as the
    # API is, and the page's script goes to the login or lock page as X's web client does.
    api = path.startswith(("/i/api/", "/i/timeline/"))
    if not _session_ok(request):
        if api:
            return _api_error(401, 32, "Could not authenticate you.")
        raise web.HTTPFound(f"{LOGIN_PATH}?redirect_after_login={quote(path, safe='')}")
    if _locked(request.app):
        if api:
            return _api_error(403, 326, "To protect our users from spam and other malicious activity, this account "
                                        "is temporarily locked.")
        raise web.HTTPFound(LOCKED_PATH)
    return await handler(request)


def _api_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"errors": [{"code": code, "message": message}]}, status=status)


def render(request: web.Request, template: str, *, status: int = 200, **context) -> web.Response:
    app = request.app
    settings, variant = app[SETTINGS], app[FAULTS].dom_variant
    refusals = {str(code): REFUSALS[mode] for mode, code in ERROR_CODES.items()}
    refusals["default"] = REFUSALS["error"]
    logged_in = _session_ok(request) and not _locked(app)
    html = app[TEMPLATES].get_template(template).render(
        sheet=_sheet(app, template) if logged_in else None,
        tid=lambda name: xformat.testid(name, variant), variant=variant, lazy_loader=app[FAULTS].lazy_loader,
        display_language=app[FAULTS].display_language,
        fmt=xformat, handle=settings.handle, display_name=settings.display_name, query_id=CREATE_TWEET_QUERY_ID,
        refusals_json=json.dumps(refusals), logged_in=logged_in,
        now=app[WORLD].now(), read_limit_toast=READ_LIMIT_TOAST, read_limit_timeline=READ_LIMIT_TIMELINE,
        **context)
    return web.Response(text=html, status=status, content_type="text/html")


def _sheet(app: web.Application, template: str) -> Sheet | None:
    """X's interstitial sheet over this page load (sandbox/sheets.py): a forced one first, else the rate's draw."""
    faults = app[FAULTS]
    if template in ("login.html", "message.html", "cells.html", "conversation.html"):
        return None
    faults.page_loads += 1
    if faults.sheets:
        return SHEETS[faults.sheets.pop(0)]
    return drawn_sheet(app[SETTINGS].seed, faults.page_loads, app[SETTINGS].sheet_rate)


def not_found(request: web.Request) -> web.Response:
    return render(request, "message.html", status=404, title="Page not found",
                  heading="Hmm...this page doesn't exist. Try searching for something else.", detail="")


def served(request: web.Request, kind: str, key: str, *, posts: int = 0, outcome: str = "ok",
           channel: str = "page") -> None:
    """Record what the account was served (sandbox/activity.py): the reading limit and the suspicion score
    are computed from these records."""
    request.app[ACTIVITY].record(Served(at=request.app[WORLD].now(), kind=kind, channel=channel, key=key,
                                        posts=posts, outcome=outcome))


def over_reading_limit(request: web.Request, kind: str, key: str, *, channel: str = "page") -> bool:
    """True (and recorded) when the account has read its limit: the caller then shows X's rate-limit notice."""
    if not request.app[ACTIVITY].reading_limited(request.app[WORLD].now()):
        return False
    served(request, kind, key, outcome="rate_limited", channel=channel)
    return True


# ---------------------------------------------------------------------------- pages


async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/home")


async def login_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(LOGIN_PATH)


async def login_page(request: web.Request) -> web.Response:
    return render(request, "login.html", title="Log in", step="username", username="", error=None)


# X's sign-in is a flow of steps: the username; maybe a check of who is signing in ("unusual login activity": the
# phone, e-mail or username again); the password; maybe the code of the account's authenticator app. Each step
# posts the form again with the flow's token (SandboxSettings.login_checks says which checks X makes).
LOGIN_FLOWS = web.AppKey("login_flows", dict)
WRONG_CHECK = {"identifier": "Please try again.", "code": "Your code is incorrect. Please try again."}


async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    settings, flows = request.app[SETTINGS], request.app[LOGIN_FLOWS]
    flow = flows.get(str(form.get("flow_token", "")))
    if flow is None:
        username = str(form.get("text", "")).strip().lstrip("@")
        if username.lower() != settings.handle.lower():
            return render(request, "login.html", title="Log in", step="username", username=username,
                          error="Sorry, we could not find your account.")
        flow = {"token": secrets.token_hex(16), "username": username, "password": False,
                "identifier": "identifier" not in settings.login_checks}
        flows[flow["token"]] = flow

    def step(name: str, error: str | None = None) -> web.Response:
        return render(request, "login.html", title="Log in", step=name, username=flow["username"],
                      flow_token=flow["token"], error=error)

    answer = str(form.get("challenge", "")).strip()
    if not flow["identifier"]:
        if "challenge" not in form:
            return step("identifier")
        if answer.lstrip("@").lower() not in (settings.handle.lower(), settings.email.lower()):
            return step("identifier", WRONG_CHECK["identifier"])
        flow["identifier"] = True
        return step("password")
    if not flow["password"]:
        password = str(form.get("password", ""))
        if not password:
            return step("password")
        if not secrets.compare_digest(password, settings.password.get_secret_value()):
            return step("password", "Wrong password!")
        flow["password"] = True
        if "code" in settings.login_checks:
            return step("code")
    elif "code" in settings.login_checks:
        # X checks the code against the wall clock, not the simulated one.
        if not authenticator(settings.totp_secret.get_secret_value()).verify(answer, valid_window=1):
            return step("code", WRONG_CHECK["code"])
    del flows[flow["token"]]
    auth_token, ct0 = secrets.token_hex(20), secrets.token_hex(32)
    request.app[STORE].add_session(auth_token, ct0, request.app[WORLD].now())
    served(request, "login", "", channel="login")
    target = request.query.get("redirect_after_login", "/home")
    response = web.HTTPFound(target if target.startswith("/") and not target.startswith("//") else "/home")
    response.set_cookie("auth_token", auth_token, httponly=True, samesite="Lax", path="/")
    response.set_cookie("ct0", ct0, samesite="Lax", path="/")
    raise response


async def logout(request: web.Request) -> web.Response:
    response = web.HTTPFound(LOGIN_PATH)
    response.del_cookie("auth_token", path="/")
    response.del_cookie("ct0", path="/")
    raise response


async def locked_page(request: web.Request) -> web.Response:
    return render(request, "message.html", title="Account locked", heading="Your account has been locked.",
                  detail="To unlock your account, you must complete a challenge.")


# Reading pages: past the reading limit they keep their frame (navigation, composer, a profile's header) but show
# X's notice where the posts would be, and count as a page load that viewed no post.

async def home(request: web.Request) -> web.Response:
    modal = request.path == "/compose/post"
    if over_reading_limit(request, "home", ""):
        return render(request, "home.html", title="Home", tweets=[], modal=modal, rate_limited=True)
    cells = _cells(request, "home", request.app[WORLD].home_timeline(), 0)
    served(request, "home", "", posts=len(cells))
    return render(request, "home.html", title="Home", tweets=cells, modal=modal)


async def settings_page(request: web.Request) -> web.Response:
    """X's settings: the frame (its side navigation, whose "Post" opens the composer over this page) and no posts."""
    served(request, "settings", "")
    return render(request, "settings.html", title="Settings")


# X's web client asks a timeline for 20 posts at a time: the first batch comes with the page, the next one when the
# reader scrolls to the end (static/x.js; a spinner cell, role=progressbar, stands at the end while there are
# more), and the list keeps only the cells near the viewport. A reader that wants more than a screenful has to
# scroll and collect as it goes. Each batch counts as posts viewed; it is not a page load (channel "scroll").
TIMELINE_BATCH = 20
PROFILE_POSTS = 800  # how far back a Posts tab goes here (X's own stops near 3,200)


def _batch(tweets: list[TweetView], cursor: int, more_url: str) -> tuple[list[TweetView], str | None]:
    """One batch of a timeline from ``cursor`` on, and the address of the next (None at the end)."""
    end = cursor + TIMELINE_BATCH
    return tweets[cursor:end], f"{more_url}&cursor={end}" if len(tweets) > end else None


def _cells(request: web.Request, page: str, posts: list[TweetView], cursor: int) -> list[TweetView | Ad]:
    """A batch's posts with X's ad among them (sandbox/ads.py). The reading limit counts the ad as a post viewed:
    X does not say whether it does, and counting it is the side that protects the account."""
    settings = request.app[SETTINGS]
    return with_ad(posts, seed=settings.seed, page=page, cursor=cursor, enabled=settings.ads)


def _replies_batch(request: web.Request, tweet_id: str, replies: list[TweetView], cursor: int, url: str, *,
                   discover: bool = False) -> tuple[list[TweetView | Ad], list[TweetView], str | None]:
    """A batch of a post's replies (with its ad), the posts of X's "Discover more" and the next batch's address.
    "Discover more" is a batch of its own after the replies' last (``discover``), loaded on scrolling like one: a
    read of the post alone never loads it; a post without replies has it too."""
    if discover:
        return [], request.app[WORLD].discover_more(tweet_id), None
    batch, more = _batch(replies, cursor, url)
    if more is None and request.app[SETTINGS].discover_more:
        more = f"{url}&discover=1"
    return _cells(request, url, batch, cursor), [], more


def _scrolled_timeline(world: World, kind: str, query: Mapping[str, str]) -> tuple[str, str, list[TweetView]] | None:
    """A timeline that loads in batches, named as its page names it: its key in the ledger, the address of its
    batches (without the cursor) and all its posts; None for an account or a post that does not exist.
    ``search``: q and f=live; ``profile``: handle; ``replies``: tweet_id, the replies under that post."""
    if kind == "search":
        q, latest = query.get("q", ""), query.get("f") == "live"
        url = f"/i/timeline/search?q={quote(q, safe='')}" + ("&f=live" if latest else "")
        return q, url, world.search(q, latest=latest) if q.strip() else []
    if kind == "profile":
        account = world.account(query.get("handle", ""))
        if account is None:
            return None
        handle = account["handle"]
        return (handle.lower(), f"/i/timeline/UserTweets?handle={quote(handle, safe='')}",
                world.profile_timeline(handle, limit=PROFILE_POSTS))
    tweet_id = query.get("tweet_id", "")
    if world.tweet(tweet_id) is None:
        return None
    return tweet_id, f"/i/timeline/replies?tweet_id={quote(tweet_id, safe='')}", world.replies(tweet_id)


async def search_page(request: web.Request) -> web.Response:
    q = request.query.get("q", "")
    latest = request.query.get("f") == "live"
    context = {"title": f"{q} - Search", "q": q, "latest": latest}
    if over_reading_limit(request, "search", q):
        return render(request, "search.html", tweets=[], rate_limited=True, **context)
    timeline = _scrolled_timeline(request.app[WORLD], "search", request.query)
    assert timeline is not None  # a search always has a timeline, if an empty one
    # The results come after the page, as X's web client asks for them (its SearchTimeline request).
    served(request, "search", q)
    return render(request, "search.html", first=f"{timeline[1]}&cursor=0", **context)


async def profile_page(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    handle = request.match_info["handle"]
    account = world.account(handle)
    if account is None:
        # X's profile of an account that is not there: the handle, and why, where the posts would be.
        suspended = handle.lower() in world.suspended
        served(request, "profile", handle.lower())
        return render(request, "profile_gone.html", status=404, title="Profile / X", gone_handle=handle,
                      heading="Account suspended" if suspended else "This account doesn't exist",
                      detail="X suspends accounts which violate the X Rules" if suspended
                      else "Try searching for another.")
    context = {"title": f"{account['name']} (@{account['handle']})", "account": account}
    if over_reading_limit(request, "profile", account["handle"].lower()):
        return render(request, "profile.html", tweets=[], rate_limited=True, **context)
    timeline = _scrolled_timeline(world, "profile", {"handle": account["handle"]})
    assert timeline is not None
    key, url, _ = timeline
    # X renders the header with the page and asks for the posts after it, in a request of their own (its web
    # client's UserTweets): the page's script loads the first batch as it loads a later one. A reader that wants
    # only the header's counts may leave them unasked, and is served no post.
    served(request, "profile", key)
    return render(request, "profile.html", first=f"{url}&cursor=0", **context)


# The path each batch's timeline is asked at (a profile's and a conversation's named as X's web client names the
# request that loads them, which a reader may leave unasked), its kind, and the page it belongs to as the ledger
# names it. A conversation is the post, its ancestors, its reply box and the first batch of its replies; the
# replies' later batches are asked as "replies".
_TIMELINE_KINDS = {"search": "search", "UserTweets": "profile", "TweetDetail": "conversation", "replies": "replies",
                   "TweetActivity": "analytics"}
_TIMELINE_PAGES = {"search": "search", "profile": "profile", "conversation": "status", "replies": "status"}


async def timeline_batch(request: web.Request) -> web.Response:
    """The next batch of a search, profile or conversation timeline, as the page's script asks for it on
    scrolling (the first batch too, on load): its cells (the header ``x-next`` names the batch after it); past the
    reading limit 429 with X's toast text."""
    kind = _TIMELINE_KINDS[request.match_info["kind"]]
    if kind == "analytics":
        return _analytics(request)
    try:
        cursor = max(0, int(request.query.get("cursor", "0")))
    except ValueError:
        return web.Response(status=400, text="bad cursor")
    timeline = _scrolled_timeline(request.app[WORLD], "replies" if kind == "conversation" else kind, request.query)
    if timeline is None:
        return not_found(request)
    key, url, tweets = timeline
    if over_reading_limit(request, _TIMELINE_PAGES[kind], key, channel="scroll"):
        return web.Response(status=429, text=READ_LIMIT_TOAST)
    if kind == "conversation":
        return _conversation(request, key, tweets, url)
    if kind == "replies":
        cells, discover, more = _replies_batch(request, key, tweets, cursor, url,
                                               discover=request.query.get("discover") == "1")
    else:
        batch, more = _batch(tweets, cursor, url)
        # No ad among a profile's posts here (a sandbox choice: the public descriptions name home, search, replies).
        cells, discover = batch if kind == "profile" else _cells(request, url, batch, cursor), []
    served(request, _TIMELINE_PAGES[kind], key, posts=len(cells) + len(discover), channel="scroll")
    # A profile without posts, or a search without results, says so where they would be, as X does.
    empty = None
    if not tweets and kind == "profile":
        empty = (f"@{key} hasn’t posted", "When they do, their posts will show up here.")
    elif not tweets and kind == "search":
        empty = (f'No results for "{key}"', "Try searching for something else.")
    response = render(request, "cells.html", tweets=cells, discover=discover, empty=empty)
    if more:
        response.headers["x-next"] = more
    return response


async def status_page(request: web.Request) -> web.Response:
    """A post's page. Its conversation (the post with its ancestors above it and the first batch of its replies
    below) comes after the page, in a request of its own as X's web client asks for it (TweetDetail), and the rest
    of the replies on scrolling."""
    tweet_id = request.match_info["tweet_id"]
    if over_reading_limit(request, "status", tweet_id):  # X cannot even say whether the post exists
        return render(request, "status.html", title="Post / X", rate_limited=True)
    focal = request.app[WORLD].tweet(tweet_id)
    served(request, "status", tweet_id)
    if focal is None:
        return not_found(request)
    return render(request, "status.html", title=f"{focal.name} on X",
                  first=f"/i/timeline/TweetDetail?tweet_id={quote(tweet_id, safe='')}")


def _conversation(request: web.Request, tweet_id: str, replies: list[TweetView], url: str) -> web.Response:
    """A post's conversation as its page's script asks for it: the post's ancestors (or the notice of a gone one),
    the post, its reply box (or who may reply) and its replies' first batch; ``url`` asks for the next batch."""
    world = request.app[WORLD]
    focal = world.tweet(tweet_id)
    assert focal is not None  # _scrolled_timeline found it
    cells, _, more = _replies_batch(request, tweet_id, replies, 0, url)
    ancestors, gone = world.ancestors(focal)
    served(request, "status", tweet_id, posts=len(ancestors) + bool(gone) + 1 + len(cells), channel="scroll")
    response = render(request, "conversation.html", ancestors=ancestors, gone=gone, focal=focal, replies=cells)
    if more:
        response.headers["x-next"] = more
    return response


async def analytics_page(request: web.Request) -> web.Response:
    """A post's analytics page. Its counts come after the page, in a request of their own, as X's web client asks
    for them (TweetActivity)."""
    tweet_id = request.match_info["tweet_id"]
    if over_reading_limit(request, "analytics", tweet_id):
        return render(request, "analytics.html", title="Post Analytics", rate_limited=True)
    focal = request.app[WORLD].tweet(tweet_id)
    served(request, "analytics", tweet_id)
    if focal is None:
        return not_found(request)
    return render(request, "analytics.html", title="Post Analytics",
                  first=f"/i/timeline/TweetActivity?tweet_id={quote(tweet_id, safe='')}")


def _analytics(request: web.Request) -> web.Response:
    """A post's counts as its analytics page's script asks for them; no posts are viewed."""
    tweet_id = request.query.get("tweet_id", "")
    focal = request.app[WORLD].tweet(tweet_id)
    if focal is None:
        return not_found(request)
    if over_reading_limit(request, "analytics", tweet_id, channel="scroll"):
        return web.Response(status=429, text=READ_LIMIT_TOAST)
    return render(request, "analytics_counts.html", t=focal)


# ---------------------------------------------------------------------------- the GraphQL write


def _tweet_result(t: OwnTweet, handle: str) -> dict:
    return {
        "__typename": "Tweet",
        "rest_id": t.id,
        "core": {"user_results": {"result": {"legacy": {"screen_name": handle}}}},
        "legacy": {
            "full_text": t.text,
            "created_at": datetime.fromtimestamp(t.created_at, UTC).strftime("%a %b %d %H:%M:%S +0000 %Y"),
            "in_reply_to_status_id_str": t.in_reply_to,
            "conversation_id_str": t.thread_root or t.id,
        },
    }


def _refused(mode: str) -> web.Response:
    return _api_error(HTTP_STATUS.get(mode, 200), ERROR_CODES[mode], API_MESSAGES[mode])


async def create_tweet(request: web.Request) -> web.Response:
    app = request.app
    ct0 = app[STORE].session_ct0(request.cookies.get("auth_token", ""))
    if not ct0 or not secrets.compare_digest(request.headers.get("x-csrf-token", ""), ct0):
        return _api_error(403, 353, "This request requires a matching csrf cookie and header.")
    try:
        variables = (await request.json())["variables"]
        text = str(variables["tweet_text"])
        reply_to = (variables.get("reply") or {}).get("in_reply_to_tweet_id")
    except (ValueError, KeyError, TypeError):
        return _api_error(400, 214, "Bad request")
    world = app[WORLD]
    in_reply_to = str(reply_to) if reply_to else None
    kind, key = world.write_kind(in_reply_to), normalise(text)
    # Every attempt counts towards the suspicion score, refused ones too: a program that keeps trying after X's
    # notice is what gets an account locked.
    forced = app[FAULTS].take_write_fault()
    refusal = forced or app[ACTIVITY].write_refusal(world.now(), kind, key)
    if refusal:
        served(request, kind, key, channel="write", outcome=f"forced:{forced}" if forced else refusal)
        return _refused(refusal)
    try:
        tweet = world.create_tweet(text, in_reply_to=in_reply_to)
    except WriteRefused as err:
        served(request, kind, key, channel="write", outcome=err.mode)
        return _refused(err.mode)
    served(request, kind, key, channel="write", outcome="created")
    return web.json_response(
        {"data": {"create_tweet": {"tweet_results": {"result": _tweet_result(tweet, app[SETTINGS].handle)}}}})


async def delete_tweet(request: web.Request) -> web.Response:
    """X's DeleteTweet mutation (the Delete menu's confirmation): ``{"data": {"delete_tweet": {...}}}``, or X's
    v1.1-style errors: 144 for a post that is not there (any more), 183 for someone else's post."""
    app = request.app
    ct0 = app[STORE].session_ct0(request.cookies.get("auth_token", ""))
    if not ct0 or not secrets.compare_digest(request.headers.get("x-csrf-token", ""), ct0):
        return _api_error(403, 353, "This request requires a matching csrf cookie and header.")
    try:
        tweet_id = str((await request.json())["variables"]["tweet_id"])
    except (ValueError, KeyError, TypeError):
        return _api_error(400, 214, "Bad request")
    outcome = app[WORLD].delete_tweet(tweet_id)
    served(request, "delete", tweet_id, channel="write", outcome=outcome)
    if outcome == "gone":
        return _api_error(200, 144, "No status found with that ID.")
    if outcome == "not_own":
        return _api_error(200, 183, "You may not delete another user's status.")
    return web.json_response({"data": {"delete_tweet": {"tweet_results": {}}}})


# ---------------------------------------------------------------------------- the GraphQL reads


def _view_result(v: TweetView) -> dict:
    return {
        "__typename": "Tweet",
        "rest_id": v.id,
        "core": {"user_results": {"result": {"legacy": {"screen_name": v.handle, "name": v.name}}}},
        "views": {"count": str(v.counts.views)},
        "legacy": {
            "full_text": v.text, "lang": v.lang,
            "created_at": datetime.fromtimestamp(v.created_at, UTC).strftime("%a %b %d %H:%M:%S +0000 %Y"),
            "in_reply_to_status_id_str": v.in_reply_to, "in_reply_to_screen_name": v.reply_to_handle,
            "favorite_count": v.counts.likes, "retweet_count": v.counts.retweets,
            "reply_count": v.counts.replies, "bookmark_count": v.counts.bookmarks,
        },
    }


# Where each read's timeline instructions sit in X's answer.
TIMELINE_PATHS = {
    "HomeTimeline": ("home", "home_timeline_urt"),
    "SearchTimeline": ("search_by_raw_query", "search_timeline", "timeline"),
    "TweetDetail": ("threaded_conversation_with_injections_v2",),
    "UserTweets": ("user", "result", "timeline_v2", "timeline"),
}


def _timeline(operation: str, views: list[TweetView]) -> dict:
    entries = [{"entryId": f"tweet-{v.id}", "sortIndex": v.id,
                "content": {"entryType": "TimelineTimelineItem",
                            "itemContent": {"itemType": "TimelineTweet",
                                            "tweet_results": {"result": _view_result(v)}}}} for v in views]
    node: dict = {"instructions": [{"type": "TimelineAddEntries", "entries": entries}]}
    for key in reversed(TIMELINE_PATHS[operation]):
        node = {key: node}
    return {"data": node}


async def graphql_read(request: web.Request) -> web.Response:
    """The reads of X's web client (``variables`` as JSON in the query string, or in a POST body). Over the
    reading limit they answer 429 with X's error body, as x.com did from July 2023."""
    app, operation = request.app, request.match_info["operation"]
    kind = GRAPHQL_READS.get(operation)
    if kind is None:
        return _api_error(404, 34, "Sorry, that page does not exist.")
    try:
        variables = (await request.json()).get("variables", {}) if request.method == "POST" \
            else json.loads(request.query.get("variables", "{}"))
        if not isinstance(variables, dict):
            raise ValueError("variables must be a JSON object")
    except (ValueError, AttributeError):
        return _api_error(400, 214, "Bad request")
    world = app[WORLD]
    key = {"search": str(variables.get("rawQuery", "")), "status": str(variables.get("focalTweetId", "")),
           "profile": str(variables.get("screen_name", "")).lower()}.get(kind, "")
    if over_reading_limit(request, kind, key, channel="api"):
        activity, now = app[ACTIVITY], world.now()
        headers = {"x-rate-limit-limit": str(activity.per_day), "x-rate-limit-remaining": "0",
                   "x-rate-limit-reset": str(int(activity.reading_retry_at(now)))}
        return web.json_response(READ_LIMIT_BODY, status=429, headers=headers)
    if kind == "home":
        views = world.home_timeline()
    elif kind == "search":
        views = world.search(key, latest=variables.get("product") == "Latest") if key.strip() else []
    elif kind == "status":
        focal = world.tweet(key)
        views = [focal, *world.replies(focal.id)] if focal else []
    else:
        views = world.profile_timeline(key) if world.account(key) else []
    served(request, kind, key, posts=len(views), channel="api")
    if kind == "status" and not views:
        return _api_error(200, 144, "_Missing: No status found with that ID.")
    return web.json_response(_timeline(operation, views))


# ---------------------------------------------------------------------------- admin API


async def _json_body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="JSON body required") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="JSON object required")
    return body


async def admin_faults(request: web.Request) -> web.Response:
    body = await _json_body(request)
    faults = request.app[FAULTS]
    try:
        faults.force(str(body.get("mode")), int(body.get("count", 1)))
    except (ValueError, TypeError) as err:
        return web.json_response({"error": str(err)}, status=400)
    if body.get("mode") == "session_expired":
        request.app[STORE].expire_sessions()
    return web.json_response(faults.describe())


async def admin_faults_state(request: web.Request) -> web.Response:
    return web.json_response(request.app[FAULTS].describe())


async def admin_latency(request: web.Request) -> web.Response:
    body = await _json_body(request)
    ms = int(body.get("ms", 0))
    if ms < 0:
        return web.json_response({"error": "ms must be >= 0"}, status=400)
    request.app[FAULTS].latency_ms = ms
    return web.json_response(request.app[FAULTS].describe())


async def admin_dom_variant(request: web.Request) -> web.Response:
    body = await _json_body(request)
    variant = int(body.get("variant", 1))
    if variant not in (1, 2):
        return web.json_response({"error": "variant must be 1 or 2"}, status=400)
    request.app[FAULTS].dom_variant = variant
    request.app[FAULTS].lazy_loader = bool(body.get("lazy_loader", False))
    return web.json_response(request.app[FAULTS].describe())


async def admin_sheet(request: web.Request) -> web.Response:
    """``{"kind": "terms", "count": 1}``: the next ``count`` logged-in page loads show X's sheet of that kind."""
    body = await _json_body(request)
    kind, count = str(body.get("kind", "")), body.get("count", 1)
    if kind not in SHEETS or not isinstance(count, int) or count < 1:
        return web.json_response({"error": f"kind is one of {', '.join(SHEETS)}; count at least 1"}, status=400)
    request.app[FAULTS].sheets.extend([kind] * count)
    return web.json_response(request.app[FAULTS].describe())


async def admin_display_language(request: web.Request) -> web.Response:
    """``{"lang": "es"}``: the account's display language on X, as its pages' ``<html lang>`` say."""
    lang = str((await _json_body(request)).get("lang", ""))
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", lang):
        return web.json_response({"error": "lang is a language tag such as en, es or pt-BR"}, status=400)
    request.app[FAULTS].display_language = lang
    return web.json_response(request.app[FAULTS].describe())


async def admin_suspicion_reset(request: web.Request) -> web.Response:
    """Start the automation-suspicion score afresh and lift a lock it set (the score itself is on /sim/ only)."""
    now = request.app[WORLD].now()
    request.app[ACTIVITY].reset_suspicion(now)
    return web.json_response({"reset": "suspicion", "at": xformat.iso_time(now)})


async def admin_reading_reset(request: web.Request) -> web.Response:
    """Start the reading limit's windows afresh (the ledger's counts stay)."""
    now = request.app[WORLD].now()
    request.app[ACTIVITY].reset_reading(now)
    return web.json_response({"reset": "reading", "at": xformat.iso_time(now)})


async def admin_reset_faults(request: web.Request) -> web.Response:
    request.app[FAULTS].reset()
    return web.json_response(request.app[FAULTS].describe())


def _tweet_json(world: World, view: TweetView) -> dict:
    own = next((t for t in world.own_tweets() if t.id == view.id), None)
    out = {
        "id": view.id, "handle": view.handle, "text": view.text, "created_at": xformat.iso_time(view.created_at),
        "age_hours": (world.now() - view.created_at) / 3600, "in_reply_to": view.in_reply_to,
        "counts": view.counts.__dict__, "own": view.own, "reply_settings": view.reply_settings,
        "can_reply": view.can_reply,
    }
    if own:
        out |= {"kind": own.kind, "thread_root": own.thread_root, "final": own.final.__dict__,
                "choice": own.choice.__dict__ if own.choice else None, "reach_penalty": own.reach_penalty,
                "followers_at_post": own.followers_at_post, "history": world.is_history(own.id)}
    return out


async def admin_tweet(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    view = world.tweet(request.match_info["tweet_id"])
    if view is None:
        deleted = world.deleted_at(request.match_info["tweet_id"])
        return web.json_response({"error": "no such tweet"} if deleted is None else
                                 {"error": "deleted", "deleted_at": xformat.iso_time(deleted)}, status=404)
    return web.json_response(_tweet_json(world, view))


async def admin_suspend(request: web.Request) -> web.Response:
    """``{"handle": ..., "suspended": true}``: X suspends that account; its profile says so (page and API).
    ``"suspended": false`` lifts it (X does on appeal), so a test leaves a shared sandbox as it found it."""
    body = await request.json()
    handle = str(body.get("handle", "")).lower()
    if not handle or handle == request.app[SETTINGS].handle.lower():
        return web.json_response({"error": "a handle other than the account's own"}, status=400)
    if body.get("suspended", True):
        request.app[WORLD].suspended.add(handle)
    else:
        request.app[WORLD].suspended.discard(handle)
    return web.json_response({"suspended": sorted(request.app[WORLD].suspended)})


async def admin_community_note(request: web.Request) -> web.Response:
    """``{"tweet_id": <our tweet id>, "text": ...}``: X shows a Community Note under one of our tweets from now on
    (its raters found a claim misleading), on its status page as under anyone's post."""
    body = await request.json()
    world = request.app[WORLD]
    tweet_id, text = str(body.get("tweet_id", "")), str(body.get("text", "")).strip()
    view = world.tweet(tweet_id)
    if view is None or not view.own or not text:
        return web.json_response({"error": "one of our tweets, and the note's text"}, status=400)
    world.own_notes[tweet_id] = text
    return web.json_response({"tweet_id": tweet_id, "noted": True})


async def admin_audience_reply(request: web.Request) -> web.Response:
    """A reply to one of our posts from someone in the audience, now (tests script conversations with it):
    ``{"to": <our tweet id>, "handle": ..., "text": ..., "kind": "question"|"comment"|"hostile"|"crisis"}``."""
    body = await request.json()
    kind = str(body.get("kind", "comment"))
    if kind not in ANSWER_FOLLOW:
        return web.json_response({"error": f"unknown kind {kind!r}"}, status=400)
    try:
        reply = request.app[WORLD].add_audience_reply(str(body["to"]), str(body["handle"]), str(body["text"]),
                                                      kind=kind)
    except KeyError:
        return web.json_response({"error": "not one of our tweets"}, status=404)
    return web.json_response({"id": reply.tweet.id, "author": reply.tweet.author.handle, "kind": reply.kind})


async def admin_tweets(request: web.Request) -> web.Response:
    """Our tweets of the run (the account's past is on /admin/history)."""
    world = request.app[WORLD]
    views = [world.tweet(t.id) for t in world.run_tweets()]
    return web.json_response({"tweets": [_tweet_json(world, v) for v in views if v]})


async def admin_history(request: web.Request) -> web.Response:
    """The account's past posts (sandbox/history.py) as now shown, with the owner's habits they were drawn from."""
    world = request.app[WORLD]
    views = [world.tweet(t.id) for t in world.history()]
    habits = world.history_habits
    return web.json_response({"habits": {"hours": list(habits.hours), "content_types": list(habits.content_types)},
                              "tweets": [_tweet_json(world, v) for v in views if v]})


def _account_json(request: web.Request) -> dict:
    world = request.app[WORLD]
    account = world.account(world.handle)
    return account | {"now": xformat.iso_time(world.now()), "usage": world.usage(),
                      "tweets": len(world.run_tweets()), "faults": request.app[FAULTS].describe()}


async def admin_account(request: web.Request) -> web.Response:
    return web.json_response(_account_json(request))


async def admin_snapshot(request: web.Request) -> web.Response:
    """The account and our tweets of the run read at one simulated instant (a report's figures must agree)."""
    world = request.app[WORLD]
    with world.frozen():
        views = [world.tweet(t.id) for t in world.run_tweets()]
        return web.json_response({"account": _account_json(request),
                                  "tweets": [_tweet_json(world, v) for v in views if v]})


async def admin_followers_series(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    try:
        hours = float(request.query.get("hours", 24))
        step = float(request.query.get("step_minutes", 60))
    except ValueError:
        return web.json_response({"error": "hours and step_minutes must be numbers"}, status=400)
    if hours <= 0 or step <= 0 or hours * 60 / step > 10_000:
        return web.json_response({"error": "need hours > 0, step_minutes > 0, at most 10,000 points"}, status=400)
    series = world.followers_series(hours=hours, step_minutes=step)
    return web.json_response({"series": [{"at": xformat.iso_time(t), "followers": n} for t, n in series]})


# ---------------------------------------------------------------------------- composition


def _mount_partner_routes(app: web.Application, settings: SandboxSettings, audience: AudienceModel,
                          world: World, activity: Activity) -> None:
    """The text endpoint and the ground-truth API live in their own modules (sandbox/llm.py,
    sandbox/ground_truth.py)."""
    try:
        from sandbox.ground_truth import add_ground_truth_routes
        from sandbox.llm import LLM_STATE, add_llm_routes, invented_claims
    except ImportError as err:
        raise RuntimeError(f"the sandbox needs sandbox/llm.py and sandbox/ground_truth.py: {err}") from err
    add_llm_routes(app, admin_token=settings.admin_token.get_secret_value(), seed=settings.seed,
                   mode=settings.llm_mode, sim_token=settings.ground_truth_token, habits=settings.llm_habits,
                   api=settings.llm_api, quota_exhausted=settings.llm_quota_exhausted)
    # X's raters know an invented statistic when they meet one: the world notes our posts that carry one.
    world.invented_claims = lambda: invented_claims(app[LLM_STATE])
    add_ground_truth_routes(app, audience=audience, token=settings.ground_truth_token, activity=activity,
                            now=world.now, world=world)


def build_app(settings: SandboxSettings, clock: Clock, *, mount_partners: bool = True) -> web.Application:
    app = web.Application(middlewares=[admin_middleware, latency_middleware, session_middleware])
    store = Store(settings.db_path)
    audience = AudienceModel(settings.seed)
    app[SETTINGS] = settings
    app[STORE] = store
    world = app[WORLD] = World(settings, clock, store, audience)
    activity = app[ACTIVITY] = Activity(settings, store, now=world.now())
    app[FAULTS] = Faults()
    app[LOGIN_FLOWS] = {}
    app[TEMPLATES] = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)

    async def close_store(_: web.Application) -> None:
        store.close()

    app.on_cleanup.append(close_store)
    if mount_partners:
        _mount_partner_routes(app, settings, audience, world, activity)
    add_xapi_routes(app, world=app[WORLD], faults=app[FAULTS], account=settings)  # before /{handle} below
    add_feed_routes(app, seed=settings.seed, now=world.now)
    r = app.router
    r.add_static("/static", HERE / "static")
    r.add_post("/admin/faults", admin_faults)
    r.add_get("/admin/faults", admin_faults_state)
    r.add_post("/admin/latency", admin_latency)
    r.add_post("/admin/dom_variant", admin_dom_variant)
    r.add_post("/admin/display_language", admin_display_language)
    r.add_post("/admin/sheet", admin_sheet)
    r.add_post("/admin/reset-faults", admin_reset_faults)
    r.add_post("/admin/suspicion/reset", admin_suspicion_reset)
    r.add_post("/admin/reading/reset", admin_reading_reset)
    r.add_post("/admin/audience_reply", admin_audience_reply)
    r.add_post("/admin/suspend", admin_suspend)
    r.add_post("/admin/community_note", admin_community_note)
    r.add_get("/admin/tweets", admin_tweets)
    r.add_get("/admin/history", admin_history)
    r.add_get("/admin/tweets/{tweet_id}", admin_tweet)
    r.add_get("/admin/account", admin_account)
    r.add_get("/admin/snapshot", admin_snapshot)
    r.add_get("/admin/followers_series", admin_followers_series)
    r.add_post("/i/api/graphql/{query_id}/CreateTweet", create_tweet)
    r.add_post("/i/api/graphql/{query_id}/DeleteTweet", delete_tweet)
    r.add_get("/i/api/graphql/{query_id}/{operation}", graphql_read)
    r.add_post("/i/api/graphql/{query_id}/{operation}", graphql_read)
    r.add_get("/", root)
    r.add_get("/login", login_redirect)
    r.add_get(LOGIN_PATH, login_page)
    r.add_post(LOGIN_PATH, login_submit)
    r.add_get("/logout", logout)
    r.add_get(LOCKED_PATH, locked_page)
    r.add_get("/home", home)
    r.add_get("/compose/post", home)
    r.add_get("/settings", settings_page)  # before /{handle}: "settings" is a path X reserves, not a handle
    r.add_get("/search", search_page)
    r.add_get("/i/timeline/{kind:search|UserTweets|TweetDetail|replies|TweetActivity}", timeline_batch)
    # The browser asks for an icon; it is no page X counts (without this route it would be a profile, "favicon.ico").
    r.add_get("/favicon.ico", lambda _: web.Response(status=404))
    # Emoji drawn as images in posts' texts, as x.com draws them (xformat.post_html): one plain disc for all.
    r.add_get("/emoji/v2/svg/{name}", lambda _: web.Response(text=EMOJI_SVG, content_type="image/svg+xml"))
    r.add_get("/{handle}", profile_page)
    r.add_get("/{handle}/following", profile_page)
    r.add_get("/{handle}/verified_followers", profile_page)
    r.add_get("/{handle}/status/{tweet_id:[0-9]+}", status_page)
    r.add_get("/{handle}/status/{tweet_id:[0-9]+}/analytics", analytics_page)
    return app


EMOJI_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36">'
             '<circle cx="18" cy="18" r="18" fill="#FFCC4D"/></svg>')


async def start_sandbox(settings: SandboxSettings, clock: Clock | None = None, *,
                        mount_partners: bool = True) -> tuple[web.AppRunner, str]:
    """Serve the sandbox in this event loop; returns the runner (``await runner.cleanup()`` to stop) and the
    base URL. Without a clock, the shared XBOT_TIME_SCALE/XBOT_SIM_EPOCH/XBOT_SIM_ANCHOR settings make one."""
    clock = clock or Clock.from_settings(load_settings(CommonSettings))
    runner = web.AppRunner(build_app(settings, clock, mount_partners=mount_partners), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # the free port chosen for port 0
    return runner, f"http://{settings.host}:{port}"
