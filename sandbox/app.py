"""The sandbox's web app: X's web client look-alike, the admin API, and (mounted from their modules) the text
endpoint and the ground-truth API. ``build_app`` is the composition root; ``start_sandbox`` runs it in-process."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import jinja2
from aiohttp import web

from libs.runtime.clock import Clock
from libs.runtime.settings import CommonSettings, load_settings
from sandbox import xformat
from sandbox.audience import AudienceModel
from sandbox.faults import Faults
from sandbox.settings import SandboxSettings
from sandbox.store import OwnTweet, Store
from sandbox.world import REFUSALS, TweetView, World, WriteRefused

HERE = Path(__file__).parent
# X's web client posts through this persisted GraphQL query; the id is opaque, any value routes the same here.
CREATE_TWEET_QUERY_ID = "oB-5XsHNAbjvARJEc8CZFw"
LOGIN_PATH = "/i/flow/login"
LOCKED_PATH = "/account/access"
# X's API error codes for each refusal; the client turns them back into X's words (REFUSALS).
ERROR_CODES = {"duplicate": 187, "daily_limit": 185, "rate_limit": 88, "automation": 226, "error": 131}
API_MESSAGES = {
    "duplicate": "Authorization: Status is a duplicate. (187)",
    "daily_limit": "Authorization: User is over daily status update limit. (185)",
    "rate_limit": "Rate limit exceeded",
    "automation": "Authorization: This request looks like it might be automated. (226)",
    "error": "Internal error",
}
HTTP_STATUS = {"rate_limit": 429, "error": 500}
# Paths that are not X's pages: no session, no latency injection, no DOM variant.
SERVICE_PREFIXES = ("/admin", "/sim", "/v1", "/static")
PUBLIC_PAGES = (LOGIN_PATH, "/login", LOCKED_PATH, "/logout")

WORLD = web.AppKey("world", World)
FAULTS = web.AppKey("faults", Faults)
SETTINGS = web.AppKey("settings", SandboxSettings)
STORE = web.AppKey("store", Store)
TEMPLATES = web.AppKey("templates", jinja2.Environment)


def _is_service(path: str) -> bool:
    return path.startswith(SERVICE_PREFIXES)


def _session_ok(request: web.Request) -> bool:
    token = request.cookies.get("auth_token")
    return bool(token) and request.app[STORE].session_ct0(token) is not None


@web.middleware
async def latency_middleware(request: web.Request, handler):
    ms = request.app[FAULTS].latency_ms
    if ms and not _is_service(request.path):
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
    api = path.startswith("/i/api/")
    if not _session_ok(request):
        if api:
            return _api_error(401, 32, "Could not authenticate you.")
        raise web.HTTPFound(f"{LOGIN_PATH}?redirect_after_login={quote(path, safe='')}")
    if request.app[FAULTS].locked:
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
    html = app[TEMPLATES].get_template(template).render(
        tid=lambda name: xformat.testid(name, variant), variant=variant, fmt=xformat,
        handle=settings.handle, display_name=settings.display_name, query_id=CREATE_TWEET_QUERY_ID,
        refusals_json=json.dumps(refusals), logged_in=_session_ok(request) and not app[FAULTS].locked,
        now=app[WORLD].now(), **context)
    return web.Response(text=html, status=status, content_type="text/html")


def not_found(request: web.Request) -> web.Response:
    return render(request, "message.html", status=404, title="Page not found",
                  heading="Hmm...this page doesn't exist. Try searching for something else.", detail="")


# ---------------------------------------------------------------------------- pages


async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/home")


async def login_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(LOGIN_PATH)


async def login_page(request: web.Request) -> web.Response:
    return render(request, "login.html", title="Log in", username="", password_step=False, error=None)


async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    settings = request.app[SETTINGS]
    username, password = str(form.get("text", "")).strip().lstrip("@"), str(form.get("password", ""))
    if username.lower() != settings.handle.lower():
        return render(request, "login.html", title="Log in", username=username, password_step=False,
                      error="Sorry, we could not find your account.")
    if not password:
        return render(request, "login.html", title="Log in", username=username, password_step=True, error=None)
    if not secrets.compare_digest(password, settings.password.get_secret_value()):
        return render(request, "login.html", title="Log in", username=username, password_step=True,
                      error="Wrong password!")
    auth_token, ct0 = secrets.token_hex(20), secrets.token_hex(32)
    request.app[STORE].add_session(auth_token, ct0, request.app[WORLD].now())
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


async def home(request: web.Request) -> web.Response:
    return render(request, "home.html", title="Home", tweets=request.app[WORLD].home_timeline(),
                  modal=request.path == "/compose/post")


async def search_page(request: web.Request) -> web.Response:
    q = request.query.get("q", "")
    latest = request.query.get("f") == "live"
    tweets = request.app[WORLD].search(q, latest=latest) if q.strip() else []
    return render(request, "search.html", title=f"{q} - Search", q=q, latest=latest, tweets=tweets)


async def profile_page(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    account = world.account(request.match_info["handle"])
    if account is None:
        return not_found(request)
    return render(request, "profile.html", title=f"{account['name']} (@{account['handle']})", account=account,
                  tweets=world.profile_timeline(account["handle"]))


def _focal(request: web.Request) -> TweetView | None:
    return request.app[WORLD].tweet(request.match_info["tweet_id"])


async def status_page(request: web.Request) -> web.Response:
    focal = _focal(request)
    if focal is None:
        return not_found(request)
    return render(request, "status.html", title=f"{focal.name} on X", focal=focal,
                  replies=request.app[WORLD].replies(focal.id))


async def analytics_page(request: web.Request) -> web.Response:
    focal = _focal(request)
    if focal is None:
        return not_found(request)
    return render(request, "analytics.html", title="Post Analytics", t=focal)


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
    try:
        forced = app[FAULTS].take_write_fault()
        if forced:
            raise WriteRefused(forced)
        tweet = app[WORLD].create_tweet(text, in_reply_to=str(reply_to) if reply_to else None)
    except WriteRefused as refusal:
        return _api_error(HTTP_STATUS.get(refusal.mode, 200), ERROR_CODES[refusal.mode], API_MESSAGES[refusal.mode])
    return web.json_response(
        {"data": {"create_tweet": {"tweet_results": {"result": _tweet_result(tweet, app[SETTINGS].handle)}}}})


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
    return web.json_response(request.app[FAULTS].describe())


async def admin_reset_faults(request: web.Request) -> web.Response:
    request.app[FAULTS].reset()
    return web.json_response(request.app[FAULTS].describe())


def _tweet_json(world: World, view: TweetView) -> dict:
    own = next((t for t in world.own_tweets() if t.id == view.id), None)
    out = {
        "id": view.id, "handle": view.handle, "text": view.text, "created_at": xformat.iso_time(view.created_at),
        "age_hours": (world.now() - view.created_at) / 3600, "in_reply_to": view.in_reply_to,
        "counts": view.counts.__dict__, "own": view.own,
    }
    if own:
        out |= {"kind": own.kind, "thread_root": own.thread_root, "final": own.final.__dict__,
                "choice": own.choice.__dict__ if own.choice else None, "reach_penalty": own.reach_penalty,
                "followers_at_post": own.followers_at_post}
    return out


async def admin_tweet(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    view = world.tweet(request.match_info["tweet_id"])
    if view is None:
        return web.json_response({"error": "no such tweet"}, status=404)
    return web.json_response(_tweet_json(world, view))


async def admin_tweets(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    views = [world.tweet(t.id) for t in world.own_tweets()]
    return web.json_response({"tweets": [_tweet_json(world, v) for v in views if v]})


def _account_json(request: web.Request) -> dict:
    world = request.app[WORLD]
    account = world.account(world.handle)
    return account | {"now": xformat.iso_time(world.now()), "usage": world.usage(),
                      "tweets": len(world.own_tweets()), "faults": request.app[FAULTS].describe()}


async def admin_account(request: web.Request) -> web.Response:
    return web.json_response(_account_json(request))


async def admin_snapshot(request: web.Request) -> web.Response:
    """The account and all our tweets read at one simulated instant (a report's figures must agree)."""
    world = request.app[WORLD]
    with world.frozen():
        views = [world.tweet(t.id) for t in world.own_tweets()]
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


def _mount_partner_routes(app: web.Application, settings: SandboxSettings, audience: AudienceModel) -> None:
    """The text endpoint and the ground-truth API live in their own modules (sandbox/llm.py,
    sandbox/ground_truth.py)."""
    try:
        from sandbox.ground_truth import add_ground_truth_routes
        from sandbox.llm import add_llm_routes
    except ImportError as err:
        raise RuntimeError(f"the sandbox needs sandbox/llm.py and sandbox/ground_truth.py: {err}") from err
    add_llm_routes(app, admin_token=settings.admin_token.get_secret_value(), seed=settings.seed)
    add_ground_truth_routes(app, audience=audience, token=settings.ground_truth_token)


def build_app(settings: SandboxSettings, clock: Clock, *, mount_partners: bool = True) -> web.Application:
    app = web.Application(middlewares=[admin_middleware, latency_middleware, session_middleware])
    store = Store(settings.db_path)
    audience = AudienceModel(settings.seed)
    app[SETTINGS] = settings
    app[STORE] = store
    app[WORLD] = World(settings, clock, store, audience)
    app[FAULTS] = Faults()
    app[TEMPLATES] = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)

    async def close_store(_: web.Application) -> None:
        store.close()

    app.on_cleanup.append(close_store)
    if mount_partners:
        _mount_partner_routes(app, settings, audience)
    r = app.router
    r.add_static("/static", HERE / "static")
    r.add_post("/admin/faults", admin_faults)
    r.add_get("/admin/faults", admin_faults_state)
    r.add_post("/admin/latency", admin_latency)
    r.add_post("/admin/dom_variant", admin_dom_variant)
    r.add_post("/admin/reset-faults", admin_reset_faults)
    r.add_get("/admin/tweets", admin_tweets)
    r.add_get("/admin/tweets/{tweet_id}", admin_tweet)
    r.add_get("/admin/account", admin_account)
    r.add_get("/admin/snapshot", admin_snapshot)
    r.add_get("/admin/followers_series", admin_followers_series)
    r.add_post("/i/api/graphql/{query_id}/CreateTweet", create_tweet)
    r.add_get("/", root)
    r.add_get("/login", login_redirect)
    r.add_get(LOGIN_PATH, login_page)
    r.add_post(LOGIN_PATH, login_submit)
    r.add_get("/logout", logout)
    r.add_get(LOCKED_PATH, locked_page)
    r.add_get("/home", home)
    r.add_get("/compose/post", home)
    r.add_get("/search", search_page)
    r.add_get("/{handle}", profile_page)
    r.add_get("/{handle}/following", profile_page)
    r.add_get("/{handle}/verified_followers", profile_page)
    r.add_get("/{handle}/status/{tweet_id:[0-9]+}", status_page)
    r.add_get("/{handle}/status/{tweet_id:[0-9]+}/analytics", analytics_page)
    return app


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
