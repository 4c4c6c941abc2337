"""The console's web app (aiohttp, Jinja2 templates, htmx from a vendored file; no JavaScript build).

Every page but the sign-in needs a session (an HttpOnly, SameSite=Strict cookie holding a random token; the
database keeps its SHA-256); every form carries the session's CSRF token and a POST without it is refused, so
neither another site nor a request without the owner's session can act. Failed sign-ins are throttled.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit
from typing import Any

import asyncio

import aiohttp
import asyncpg
import jinja2
from aiohttp import web

from libs.bus.dlq import DeadLetters, retry_subject
from libs.bus.streams import kv_bucket
from libs.contracts.gateway import GatewayError
from libs.runtime.context import JobContext
from services.console import owner
from services.console.auth import Throttle, csrf_ok, from_own_origin, new_token, token_digest, verify_password
from services.console.charts import bar_chart, line_chart
from services.console.settings import ConsoleSettings
from services.console.slots import next_good_slot

logger = logging.getLogger("xbot.console")
HERE = Path(__file__).parent
COOKIE = "xbot_console"
OWNER = "owner"
PAGES = (("queue", "Queue"), ("review", "Review"), ("write", "Write"), ("posted", "Posted"), ("growth", "Growth"),
         ("learner", "Learner"), ("account", "Account"), ("operations", "Operations"))
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CSRF = web.RequestKey("csrf", str)  # the signed-in session's CSRF token, for the forms of the page


def posts(n: int) -> str:
    return f"{n} post" if n == 1 else f"{n} posts"


def age(span: timedelta) -> str:
    """A time span as the owner reads it: "40 min", "3 h 12 min", "2 d 4 h"."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def own_path(back: str, default: str = "/queue") -> str:
    """``back`` when it is a path of this site, else ``default``: never an open redirect. "/" and then neither "/"
    nor "\\": browsers read "//evil.example" and "/\\evil.example" as another host; and no control character
    (they drop tabs and newlines from a URL: "/\\t/evil.example" is "//evil.example")."""
    local = len(back) > 1 and back[0] == "/" and back[1] not in "/\\" and all(c >= " " for c in back)
    return back if local else default


def path_segment(value: object) -> str:
    """One segment of a URL path, every reserved character encoded: ids come from events (a tweet id, a content
    id), and "../../switch?action=pause&x=" put as is into a form's action would post to another endpoint."""
    return quote(str(value), safe="")


def external_link(url: object) -> str:
    """``url`` when it is an http(s) address, else "" (no link): a posted item's URL comes from an event, and a
    ``javascript:`` or ``data:`` one is no post on X; only the CSP would keep it from running in the console's
    origin when clicked."""
    text = str(url or "")
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    return text if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


class Console:
    """The web app over the console's job context (its pool, outbox, kill switch and clock)."""

    def __init__(self, ctx: JobContext[ConsoleSettings], js: Any, broker: Any = None) -> None:
        self.ctx = ctx
        # The broker's request/reply asks a service to re-apply a dead letter (the gateway client has its own).
        self.broker = broker
        self.settings = ctx.settings
        self.pool: asyncpg.Pool = ctx.pool
        self.js = js
        self.niche = ctx.settings.niche()
        self.kinds = ctx.settings.approval_kinds()
        self.throttle = Throttle(ctx.settings.console_login_failures,
                                 ctx.settings.console_login_window_real.total_seconds())
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                            autoescape=True, undefined=jinja2.StrictUndefined)
        self.templates.filters["parts"] = lambda raw: json.loads(raw) if isinstance(raw, str) else raw
        self.templates.filters["when"] = lambda t: t.strftime("%Y-%m-%d %H:%M") if t else "—"
        # A reply's target on X, for the owner to read what the draft answers (and what that tweet quotes) before
        # approving it: the console keeps no stranger's text of its own.
        base = ctx.settings.x_base_url.rstrip("/")
        self.templates.filters["on_x"] = \
            lambda author, tweet_id: f"{base}/{path_segment(author)}/status/{path_segment(tweet_id)}"
        # Whatever comes from an event and goes into a URL: "segment" for a part of a path of the console's own,
        # "link" for an address elsewhere (templates use no other way).
        self.templates.filters["segment"] = path_segment
        self.templates.filters["link"] = external_link
        self.runner: web.AppRunner | None = None
        self.url = ""
        # One dead-letter action at a time: a double click must not re-apply a letter twice before it is dropped.
        self.letters_lock = asyncio.Lock()

    # ------------------------------------------------------------------ server

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=64 * 1024)
        app.router.add_get("/", self.home)
        app.router.add_get("/login", self.login_page)
        app.router.add_post("/login", self.login)
        app.router.add_post("/logout", self.logout)
        app.router.add_static("/static", HERE / "static")
        for name, _title in PAGES:
            app.router.add_get(f"/{name}", getattr(self, f"page_{name}"))
        app.router.add_get("/switch", self.switch_fragment)
        app.router.add_post("/switch", self.switch)
        app.router.add_post("/items/{content_id}/approve", self.approve)
        app.router.add_post("/items/{content_id}/edit", self.edit)
        app.router.add_post("/items/{content_id}/reject", self.reject)
        app.router.add_post("/evergreen/{evergreen_id}/approve", self.evergreen_approve)
        app.router.add_post("/evergreen/{evergreen_id}/reject", self.evergreen_reject)
        app.router.add_post("/left/{tweet_id}/dismiss", self.dismiss_left)
        app.router.add_post("/dead-letters/{seq}/drop", self.drop_letter)
        app.router.add_post("/dead-letters/{seq}/retry", self.retry_letter)
        app.router.add_get("/posted/{content_id}/delete", self.confirm_delete)
        app.router.add_post("/posted/{content_id}/delete", self.delete_posted)
        app.router.add_post("/write", self.write)
        app.router.add_post("/learner/rollback", self.rollback)
        return app

    async def start(self) -> str:
        self.runner = web.AppRunner(self.app(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.settings.console_host, self.settings.console_port)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://{self.settings.console_host}:{port}"
        logger.info("console on %s", self.url)
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    # ------------------------------------------------------------------ sessions and CSRF

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in ("/login",) or request.path.startswith("/static/"):
            return await handler(request)
        session = await self._session(request)
        if session is None:
            if request.method != "GET":
                return web.Response(status=401, text="sign in first")
            return self._redirect("/login")
        request[CSRF] = session["csrf"]
        if request.method == "POST":
            form = await request.post()
            if not csrf_ok(session["csrf"], str(form.get("csrf") or request.headers.get("X-CSRF-Token") or "")):
                return web.Response(status=403, text="missing or wrong CSRF token")
        response = await handler(request)
        return response

    async def _session(self, request: web.Request) -> asyncpg.Record | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        return await self.pool.fetchrow("SELECT csrf FROM sessions WHERE digest = $1 AND expires_at > now()",
                                        token_digest(token))

    async def home(self, _request: web.Request) -> web.Response:
        return self._redirect("/queue")

    async def login_page(self, request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
        has_password = await self.pool.fetchval("SELECT count(*) FROM owner") > 0
        return self._html("login.html", {"error": error, "has_password": has_password}, status=status)

    async def login(self, request: web.Request) -> web.StreamResponse:
        # Before the throttle: a page on any site can make the owner's browser post a wrong password here, from the
        # owner's own address, until the throttle locks the owner out (this form carries no CSRF token: there is
        # no session yet). Such a post says where it comes from; it is refused and not counted.
        if not from_own_origin(request.headers.get("Origin"), request.headers.get("Referer"), request.host):
            return web.Response(status=403, text="sign in from the console's own sign-in page")
        client = request.remote or "?"
        wait = self.throttle.blocked(client, time.monotonic())
        if wait is not None:
            return await self.login_page(request, error=f"too many failed sign-ins: try again in {wait:.0f} s",
                                         status=429)
        form = await request.post()
        stored = await self.pool.fetchval("SELECT password_hash FROM owner WHERE id = 1")
        if stored is None or not verify_password(str(form.get("password") or ""), stored):
            self.throttle.failed(client, time.monotonic())
            return await self.login_page(request, error="wrong password" if stored else
                                         "no password set: run `xbot console set-password`", status=401)
        self.throttle.succeeded(client)
        token = new_token()
        await self.pool.execute("DELETE FROM sessions WHERE expires_at <= now()")
        await self.pool.execute("INSERT INTO sessions (digest, csrf, expires_at) VALUES ($1, $2, $3)",
                                token_digest(token), new_token(),
                                datetime.now(UTC) + self.settings.console_session_real)
        response = self._redirect("/queue")
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=self.settings.console_secure_cookie,
                            max_age=int(self.settings.console_session_real.total_seconds()), path="/")
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        await self.pool.execute("DELETE FROM sessions WHERE digest = $1", token_digest(request.cookies[COOKIE]))
        response = self._redirect("/login")
        response.del_cookie(COOKIE, path="/")
        return response

    # ------------------------------------------------------------------ rendering

    def _redirect(self, to: str) -> web.Response:
        return web.Response(status=303, headers={"Location": to})

    def _html(self, template: str, values: dict[str, Any], *, status: int = 200) -> web.Response:
        body = self.templates.get_template(template).render(pages=PAGES, **values)
        return web.Response(text=body, content_type="text/html", status=status,
                            headers={"Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'",
                                     "X-Frame-Options": "DENY", "Cache-Control": "no-store"})

    async def _page(self, request: web.Request, name: str, values: dict[str, Any], *,
                    status: int = 200) -> web.Response:
        switch = await self.ctx.kill_switch.read()
        # What waits for the owner, on every page's Review link: drafts to decide, replies left to them.
        waiting = await self.pool.fetchval(
            "SELECT (SELECT count(*) FROM items WHERE status = 'queued' AND decision IS NULL"
            " AND kind = ANY($1::text[])) + (SELECT count(*) FROM left_replies r WHERE NOT EXISTS"
            " (SELECT 1 FROM left_replies_dismissed d WHERE d.tweet_id = r.tweet_id))", sorted(self.kinds))
        return self._html(f"{name}.html", {"page": name, "csrf": request[CSRF], "switch": switch, "waiting": waiting,
                                           "notice": request.query.get("notice", ""),
                                           "error": values.pop("error", request.query.get("error", "")),
                                           "now": self.ctx.clock.now(), "approval": sorted(self.kinds), **values},
                          status=status)

    # ------------------------------------------------------------------ pages

    async def page_queue(self, request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
        # With each item, the owner's latest edit and the poster's answer to it (none yet: pending), and the
        # latest edit the poster applied (the text it will post).
        rows = await self.pool.fetch(
            "SELECT i.*, last.parts AS last_edit, v.applied AS last_applied, v.reason AS last_reason,"
            " (SELECT e.parts FROM edits e JOIN edit_verdicts a USING (content_id, edited_at) WHERE"
            "  e.content_id = i.content_id AND a.applied ORDER BY e.edited_at DESC LIMIT 1) AS applied_parts"
            " FROM items i LEFT JOIN LATERAL (SELECT * FROM edits e WHERE e.content_id = i.content_id"
            " ORDER BY e.edited_at DESC LIMIT 1) last ON true"
            " LEFT JOIN edit_verdicts v ON v.content_id = last.content_id AND v.edited_at = last.edited_at"
            " WHERE i.status = 'queued' ORDER BY i.scheduled_for, i.content_id")
        now = self.ctx.clock.now()
        items = []
        for r in rows:
            waits = r["kind"] in self.kinds
            # What goes out: an item that waits for approval, the text as edited (the approval carries it);
            # another, the latest edit the poster applied.
            text = (r["edited_parts"] if waits else r["applied_parts"]) or r["parts"]
            editable = not waits and r["decision"] is None and r["last_applied"] is not False
            items.append(dict(r, choice=json.loads(r["choice"]), why=self._why(r, now), text=text,
                              editable=editable, edit_box="\n---\n".join(json.loads(r["last_edit"] or text))))
        return await self._page(request, "queue", {"items": items, "error": error}, status=status)

    def _why(self, row: asyncpg.Record, now: datetime) -> str:
        if row["source"] == "owner":
            return f"your own {row['kind']}: the poster posts it at its slot from {row['scheduled_for']:%H:%M}"
        if row["decision"] == "rejected":
            return "rejected by the owner: the poster drops it"
        if row["kind"] in self.kinds and row["decision"] is None:
            return "waits for your approval (Review)"
        if row["scheduled_for"] > now:
            return f"scheduled for {row['scheduled_for']:%H:%M}, the hour the policy chose"
        return "due: the poster posts it at its next pacing slot"

    async def page_review(self, request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
        rows = await self.pool.fetch(
            "SELECT * FROM items WHERE status = 'queued' AND decision IS NULL AND kind = ANY($1::text[])"
            " ORDER BY scheduled_for, content_id", sorted(self.kinds))
        items = [dict(r, choice=json.loads(r["choice"]),
                      text="\n---\n".join(json.loads(r["edited_parts"] or r["parts"]))) for r in rows]
        decided = await self.pool.fetch(
            "SELECT * FROM items WHERE decision IS NOT NULL ORDER BY decided_at DESC LIMIT 20")
        # The planner's evergreen posts the owner has not decided on (EvergreenDrafted), oldest first.
        rows = await self.pool.fetch(
            "SELECT * FROM evergreen WHERE decision IS NULL ORDER BY drafted_at, evergreen_id LIMIT 50")
        evergreen = [dict(r, choice=json.loads(r["choice"]), parts=json.loads(r["parts"])) for r in rows]
        # Replies to our tweets the harvester left to the owner (a person in a crisis), newest first, each with the
        # tweet of ours it is under (our text, when the console saw it posted; never the stranger's words).
        left = await self.pool.fetch(
            "SELECT r.*, (SELECT i.parts->>0 FROM items i WHERE i.tweet_ids ? r.conversation_id LIMIT 1) AS our_text"
            " FROM left_replies r WHERE NOT EXISTS (SELECT 1 FROM left_replies_dismissed d"
            " WHERE d.tweet_id = r.tweet_id) ORDER BY r.found_at DESC, r.tweet_id LIMIT 50")
        # How often the owner was called for nothing, over what the retention keeps.
        verdicts = dict(await self.pool.fetch("SELECT verdict, count(*) FROM left_replies_dismissed GROUP BY verdict"))
        return await self._page(request, "review", {"items": items, "decided": decided, "evergreen": evergreen,
                                                    "left": left, "verdicts": verdicts,
                                                    "handle": self.ctx.settings.x_handle,
                                                    "error": error}, status=status)

    async def page_write(self, request: web.Request, *, error: str = "", status: int = 200,
                         text: str = "") -> web.Response:
        mine = await self.pool.fetch("SELECT * FROM items WHERE source = 'owner' ORDER BY queued_at DESC LIMIT 30")
        return await self._page(request, "write", {"mine": mine, "error": error, "text": text,
                                                   "slot": await self._next_slot()}, status=status)

    async def _next_slot(self) -> datetime:
        model = await self.pool.fetchrow("SELECT posteriors FROM models ORDER BY created_at DESC LIMIT 1")
        hours = json.loads(model["posteriors"]).get("hour", {}) if model else {}
        return next_good_slot(self.ctx.clock.now(), hours)

    async def write(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        text = str(form.get("text") or "")
        if form.get("when") == "at":
            try:
                at = datetime.fromisoformat(str(form.get("at") or "")).replace(tzinfo=UTC)
            except ValueError:
                return await self.page_write(request, error="give the time as YYYY-MM-DDTHH:MM (UTC, simulated)",
                                             status=422, text=text)
        else:
            at = await self._next_slot()
        done = await owner.write(self.pool, self.ctx.outbox, text, kind=str(form.get("kind") or "post"),
                                 scheduled_for=at, override=form.get("override") == "on", by=OWNER,
                                 now=self.ctx.clock.now(), config=self.niche)
        if isinstance(done, owner.Refused):
            return await self.page_write(request, error=done.reason, status=422, text=text)
        return self._redirect("/write?notice=" + quote(f"queued for {done.scheduled_for:%Y-%m-%d %H:%M} UTC"))

    async def page_posted(self, request: web.Request) -> web.Response:
        rows = await self.pool.fetch(
            "SELECT i.*, coalesce((SELECT sum(a.followers) FROM attributed a WHERE a.content_id = i.content_id), 0)"
            " AS attributed, d.deleted_at, d.deleted_by,"
            " (SELECT min(x.noticed_at) FROM x_marks x WHERE x.content_id = i.content_id AND x.mark = 'gone')"
            " AS gone_at,"
            " (SELECT min(x.noticed_at) FROM x_marks x WHERE x.content_id = i.content_id AND x.mark = 'noted')"
            " AS noted_at"
            " FROM items i LEFT JOIN deletions d USING (content_id)"
            " WHERE status = 'posted' ORDER BY posted_at DESC LIMIT 200")
        checkpoints: dict[str, list[asyncpg.Record]] = {}
        for m in await self.pool.fetch("SELECT * FROM metrics ORDER BY hours"):
            checkpoints.setdefault(m["content_id"], []).append(m)
        return await self._page(request, "posted", {"items": rows, "checkpoints": checkpoints})

    async def page_growth(self, request: web.Request) -> web.Response:
        followers = [(r["observed_at"], float(r["followers"])) for r in
                     await self.pool.fetch("SELECT observed_at, followers FROM followers ORDER BY observed_at")]
        engagement = [(r["posted_at"], float(r["engagement"])) for r in await self.pool.fetch(
            "SELECT i.posted_at, max(m.likes + m.retweets + m.replies) AS engagement FROM items i"
            " JOIN metrics m ON m.content_id = i.content_id GROUP BY i.content_id, i.posted_at ORDER BY i.posted_at")]
        model = await self.pool.fetchrow("SELECT posteriors FROM models ORDER BY created_at DESC LIMIT 1")
        arms = json.loads(model["posteriors"]).get("content_type", {}) if model else {}
        # An arm's posts beside its name: one never tried shows the prior's mean, which says nothing of it.
        bars = sorted(((f"{arm} ({posts(int(p.get('n') or 0))})", float(p.get("mean", 0.0)))
                       for arm, p in arms.items()), key=lambda b: -b[1])
        # The chart alone hides how old its last point is: the count is read from X now and then, not live.
        count = None
        if followers:
            (first_at, first), (last_at, last) = followers[0], followers[-1]
            count = {"followers": int(last), "at": last_at, "age": age(self.ctx.clock.now() - last_at),
                     "change": int(last - first), "since": first_at}
        return await self._page(request, "growth", {
            "count": count,
            "followers_svg": line_chart(followers, title="followers over time"),
            "engagement_svg": line_chart(engagement, title="engagement per post (likes + retweets + replies)"),
            "reward_svg": bar_chart(bars, title="reward by content type (the learner's posterior mean)")})

    async def page_learner(self, request: web.Request) -> web.Response:
        models = await self.pool.fetch("SELECT * FROM models ORDER BY created_at DESC LIMIT 30")
        latest = dict(models[0]) if models else None
        if latest is not None:
            latest["posteriors"] = json.loads(latest["posteriors"])
        return await self._page(request, "learner", {
            "models": [dict(m, evaluation=json.loads(m["evaluation"])) for m in models], "latest": latest})

    async def page_account(self, request: web.Request) -> web.Response:
        risk = await self.pool.fetch("SELECT * FROM risk ORDER BY handle")
        statuses = await self._statuses()
        account = await self._kv_documents("account")
        return await self._page(request, "account", {
            "risk": risk, "account": account,
            "posting": json.dumps(statuses.get("poster", {}).get("posting", {}), indent=2, default=str),
            "gateway": json.dumps({k: v for k, v in statuses.get("browser_gateway", {}).items()
                                   if k not in ("service", "ready", "checks")}, indent=2, default=str)})

    async def page_operations(self, request: web.Request) -> web.Response:
        statuses = await self._statuses()
        lags = await self._lags()
        try:
            letters = await DeadLetters(self.js, self.settings.namespace).list()
            letters_error = ""
        except Exception as err:  # noqa: BLE001 - shown on the page: e.g. a NATS user without the DLQ's rights
            letters, letters_error = [], f"cannot read the dead letters ({type(err).__name__})"
        log = await self.pool.fetch("SELECT * FROM switch_log ORDER BY id DESC LIMIT 20")
        letter_log = await self.pool.fetch("SELECT * FROM dead_letter_log ORDER BY id DESC LIMIT 20")
        return await self._page(request, "operations", {"statuses": statuses, "lags": lags, "letters": letters,
                                                        "letters_error": letters_error, "log": log,
                                                        "letter_log": letter_log})

    # ------------------------------------------------------------------ other services, read on their side port

    async def _service_urls(self) -> dict[str, str]:
        try:
            kv = await self.js.key_value(kv_bucket(self.settings.namespace, "services"))
            keys = await kv.keys()
        except Exception:  # noqa: BLE001 - nats-py raises on an empty bucket: nothing registered
            return {}
        out = {}
        for key in keys:
            entry = await kv.get(key)
            out[key.removeprefix("svc.")] = json.loads(entry.value or b"{}").get("url", "")
        return out

    async def _fetch_each(self, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
            for service, url in sorted((await self._service_urls()).items()):
                try:
                    async with http.get(f"{url}{path}") as resp:
                        out[service] = await (resp.text() if path == "/metrics" else resp.json(content_type=None))
                except (aiohttp.ClientError, TimeoutError, ValueError) as err:
                    out[service] = {"ready": False, "checks": {"side port": f"unreachable ({type(err).__name__})"}}
        return out

    async def _statuses(self) -> dict[str, Any]:
        return await self._fetch_each("/status")

    async def _lags(self) -> list[tuple[str, str, float]]:
        """Each durable consumer's pending messages, from each service's own xbot_consumer_lag gauge."""
        out = []
        for service, text in (await self._fetch_each("/metrics")).items():
            if not isinstance(text, str):
                continue
            for line in text.splitlines():
                if line.startswith("xbot_consumer_lag{"):
                    labels, value = line.rsplit(" ", 1)
                    consumer = labels.split('consumer="', 1)[1].split('"', 1)[0]
                    out.append((service, consumer, float(value)))
        return out

    async def _kv_documents(self, bucket: str) -> dict[str, Any]:
        try:
            kv = await self.js.key_value(kv_bucket(self.settings.namespace, bucket))
            keys = await kv.keys()
        except Exception:  # noqa: BLE001 - an empty or absent bucket: nothing to show
            return {}
        out = {}
        for key in keys:
            entry = await kv.get(key)
            try:
                out[key] = json.loads(entry.value or b"null")
            except ValueError:
                out[key] = (entry.value or b"").decode(errors="replace")
        return out

    # ------------------------------------------------------------------ actions

    async def switch_fragment(self, request: web.Request) -> web.Response:
        switch = await self.ctx.kill_switch.read()
        return self._html("switch.html", {"switch": switch, "csrf": request[CSRF]})

    async def switch(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        action = str(form.get("action"))
        reason = str(form.get("reason") or "").strip() or f"{action}d in the console"
        by = f"console:{OWNER}"
        if action == "pause":
            await self.ctx.kill_switch.pause(reason, by=by)
        elif action == "resume":
            await self.ctx.kill_switch.resume(by=by, reason=reason)
        else:
            return web.Response(status=400, text="action is pause or resume")
        await self.pool.execute("INSERT INTO switch_log (action, by, reason, at) VALUES ($1, $2, $3, $4)",
                                action, by, reason, datetime.now(UTC))
        logger.warning("writes %sd by %s in the console: %s", action, by, reason)
        return self._back(request, f"writes {action}d")

    def _back(self, request: web.Request, notice: str = "", *, error: str = "") -> web.Response:
        page = own_path(str(request.query.get("back") or ""))
        query = f"error={quote(error)}" if error else f"notice={quote(notice)}"
        return self._redirect(f"{page}?{query}")

    async def approve(self, request: web.Request) -> web.StreamResponse:
        done = await owner.approve(self.pool, self.ctx.outbox, request.match_info["content_id"], by=OWNER,
                                   now=self.ctx.clock.now(), approval_kinds=self.kinds)
        if isinstance(done, owner.Refused):
            return await self.page_review(request, error=done.reason, status=409)
        return self._redirect("/review?notice=" + quote("approved: the poster posts it at its slot"))

    async def edit(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        done = await owner.edit(self.pool, self.ctx.outbox, request.match_info["content_id"],
                                str(form.get("text") or ""), by=OWNER, now=self.ctx.clock.now(), config=self.niche,
                                approval_kinds=self.kinds)
        if isinstance(done, owner.Refused):
            if form.get("page") == "queue":
                return await self.page_queue(request, error=done.reason, status=422)
            return await self.page_review(request, error=done.reason, status=422)
        if done.kind not in self.kinds:
            return self._redirect("/queue?notice=" + quote(
                "edit sent: the poster posts the new text unless it had already started posting this item "
                "(its row shows the poster's answer)"))
        return self._redirect("/review?notice=" + quote("edited: approve it to post the new text"))

    async def reject(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        done = await owner.reject(self.pool, self.ctx.outbox, request.match_info["content_id"],
                                  str(form.get("reason") or ""), by=OWNER, now=self.ctx.clock.now(),
                                  approval_kinds=self.kinds)
        if isinstance(done, owner.Refused):
            return await self.page_review(request, error=done.reason, status=422)
        return self._redirect("/review?notice=rejected")

    async def dismiss_left(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        verdict = str(form.get("verdict") or "seen_to")
        done = await owner.dismiss_left_reply(self.pool, self.ctx.outbox, request.match_info["tweet_id"], verdict,
                                              by=OWNER, now=self.ctx.clock.now())
        if isinstance(done, owner.Refused):
            # No such reply (404), or a verdict the form does not offer (422).
            return await self.page_review(request, error=done.reason,
                                          status=404 if verdict in owner.LEFT_VERDICTS else 422)
        return self._redirect("/review?notice=" + quote("taken off the list of replies left to you"))

    async def evergreen_approve(self, request: web.Request) -> web.StreamResponse:
        return await self._evergreen(request, "approved")

    async def evergreen_reject(self, request: web.Request) -> web.StreamResponse:
        return await self._evergreen(request, "rejected")

    async def _evergreen(self, request: web.Request, decision: str) -> web.StreamResponse:
        form = await request.post()
        done = await owner.decide_evergreen(self.pool, self.ctx.outbox, request.match_info["evergreen_id"], decision,
                                            str(form.get("reason") or ""), by=OWNER, now=self.ctx.clock.now())
        if isinstance(done, owner.Refused):
            return await self.page_review(request, error=done.reason, status=422)
        notice = ("evergreen post approved: the planner may queue it while the model is down" if decision == "approved"
                  else "evergreen post rejected: never queued")
        return self._redirect("/review?notice=" + quote(notice))

    async def rollback(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        version = str(form.get("version") or "")
        latest = await self.pool.fetchval("SELECT version FROM models ORDER BY created_at DESC LIMIT 1")
        if not version or version != latest:
            return self._redirect("/learner?error=" + quote(f"{version or 'no version'} is not the model in force "
                                                            f"({latest or 'none yet'}): nothing rolled back"))
        await owner.request_rollback(self.pool, self.ctx.outbox, version, by=OWNER, now=self.ctx.clock.now())
        return self._redirect("/learner?notice=" + quote(f"rollback of {version} asked: the learner restores the "
                                                         "version before it at its next check"))

    # ------------------------------------------------------------------ dead letters

    async def drop_letter(self, request: web.Request) -> web.StreamResponse:
        seq = int(request.match_info["seq"])
        letters = DeadLetters(self.js, self.settings.namespace)
        async with self.letters_lock:
            try:
                letter = await letters.get(seq)
            except Exception:  # noqa: BLE001 - nats-py's NotFoundError and friends: already dropped or retried
                return self._redirect("/operations?error=" + quote(f"no dead letter {seq} (dropped or retried)"))
            await letters.drop(seq)
            await self._log_letter("drop", letter.service, letter.subject, seq, "dropped")
        return self._redirect("/operations?notice=" + quote(f"dead letter {seq} dropped"))

    async def retry_letter(self, request: web.Request) -> web.StreamResponse:
        """Ask the service whose projection failed the letter to re-apply it (as ``xbot dlq retry`` does), then
        drop it. Not a republication to the original subject: that would reach every consumer of the stream
        (the others applied it already, under its first sequence) and need the producer's right to publish; and
        under its original Nats-Msg-Id the stream would drop it as a duplicate within its window."""
        seq = int(request.match_info["seq"])
        letters = DeadLetters(self.js, self.settings.namespace)
        async with self.letters_lock:
            try:
                letter = await letters.get(seq)
            except Exception:  # noqa: BLE001 - already dropped or retried
                return self._redirect("/operations?error=" + quote(f"no dead letter {seq} (dropped or retried)"))
            try:
                msg = await self.broker.request({"seq": seq}, retry_subject(self.settings.namespace, letter.service),
                                                timeout=30)
                answer = json.loads(msg.body)
            except Exception as err:  # noqa: BLE001 - no responder (service down), timeout: shown, letter kept
                answer = {"ok": False, "message": f"{letter.service} did not answer ({type(err).__name__})"}
            if answer.get("ok"):
                await letters.drop(seq)
            outcome = str(answer.get("message") or "")[:500]
            await self._log_letter("retry", letter.service, letter.subject, seq,
                                   outcome if answer.get("ok") else f"failed: {outcome}")
        if not answer.get("ok"):
            return self._redirect("/operations?error=" + quote(f"dead letter {seq} kept: {outcome}"))
        return self._redirect("/operations?notice=" + quote(f"dead letter {seq} re-applied in {letter.service} "
                                                            "and dropped"))

    async def _log_letter(self, action: str, service: str, subject: str, seq: int, outcome: str) -> None:
        await self.pool.execute(
            "INSERT INTO dead_letter_log (action, dlq_seq, service, subject, by, outcome, at)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7)", action, seq, service, subject, f"console:{OWNER}", outcome,
            datetime.now(UTC))
        logger.warning("dead letter %s (%s, %s): %s in the console by %s: %s", seq, service, subject, action, OWNER,
                       outcome)

    # ------------------------------------------------------------------ deleting a posted tweet

    async def _posted(self, content_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            "SELECT i.*, d.deleted_at FROM items i LEFT JOIN deletions d USING (content_id)"
            " WHERE content_id = $1 AND status = 'posted'", content_id)

    async def confirm_delete(self, request: web.Request) -> web.Response:
        row = await self._posted(request.match_info["content_id"])
        if row is None:
            return await self._page(request, "posted_delete", {"item": None, "error": "no posted item by that id"},
                                    status=404)
        return await self._page(request, "posted_delete", {"item": row})

    async def delete_posted(self, request: web.Request) -> web.StreamResponse:
        """Delete every part on X through the gateway (its guards apply: kill switch, live guard, caps), last part
        first as a person would, then record TweetDeleted. A part already gone counts as deleted, so a second try
        after a failure or a lost answer finishes the job."""
        content_id = request.match_info["content_id"]
        row = await self._posted(content_id)
        if row is None:
            return self._redirect("/posted?error=" + quote(f"no posted item {content_id}"))
        if row["deleted_at"] is not None:
            return self._redirect("/posted?notice=" + quote("already deleted"))
        ids = json.loads(row["tweet_ids"]) if row["tweet_ids"] else [row["tweet_id"]]
        for tweet_id in reversed(ids):
            try:
                await self.ctx.gateway.delete_tweet(tweet_id, timeout=self.settings.console_delete_timeout_real
                                                    .total_seconds())
            except GatewayError as err:
                logger.warning("deleting %s (%s) refused: %s", content_id, tweet_id, err)
                return self._redirect("/posted?error=" + quote(f"not deleted: {err.code}: {err.message}"))
        event = await owner.record_deleted(self.pool, self.ctx.outbox, content_id, ids, by=OWNER,
                                           now=self.ctx.clock.now())
        logger.warning("posted item %s (%s) deleted from X in the console by %s", content_id, ", ".join(ids), OWNER)
        await self.ctx.wait_applied(await self.ctx.outbox.flush())
        return self._redirect("/posted?notice=" + quote(f"deleted from X: {', '.join(event.tweet_ids)}"))
