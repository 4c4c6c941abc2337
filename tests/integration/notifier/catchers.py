"""Local channels for the notifier's tests: a webhook receiver (an aiohttp server taking Apprise's json://
posts) and an e-mail catcher (aiosmtpd, a real SMTP server), each keeping what it received."""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from aiosmtpd.controller import Controller
from tests.helpers import free_port


@dataclass
class Received:
    title: str
    body: str
    raw: str  # everything the channel got, for the secrets check


@dataclass
class Catchers:
    webhook_url: str
    mail_url: str
    hooks: list[Received] = field(default_factory=list)
    mails: list[Received] = field(default_factory=list)
    refuse_hooks: int = 0  # the webhook answers 500 to this many posts first

    @property
    def apprise_urls(self) -> str:
        return f"{self.webhook_url} {self.mail_url}"

    def titles(self) -> dict[str, list[str]]:
        return {"webhook": [r.title for r in self.hooks], "mail": [r.title for r in self.mails]}


@asynccontextmanager
async def catchers() -> AsyncIterator[Catchers]:
    out: Catchers

    async def hook(request: web.Request) -> web.Response:
        raw = await request.text()
        if out.refuse_hooks > 0:
            out.refuse_hooks -= 1
            return web.json_response({"error": "down"}, status=500)
        body = await request.json()
        out.hooks.append(Received(body.get("title", ""), body.get("message", ""), raw + str(request.rel_url)))
        return web.json_response({})

    class Mailbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            raw = envelope.content.decode("utf-8", "replace")
            msg = email.message_from_string(raw, policy=email.policy.default)
            part = msg.get_body(("plain",)) if msg.is_multipart() else msg
            text = part.get_content() if part is not None else ""
            out.mails.append(Received(str(msg["Subject"]), text, raw))
            return "250 OK"

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    smtp_port = free_port()
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    out = Catchers(webhook_url=f"json://127.0.0.1:{hook_port}/hook",
                   mail_url=f"mailto://127.0.0.1:{smtp_port}?from=xbot@example.com&to=owner@example.com"
                            "&mode=insecure")
    try:
        yield out
    finally:
        smtp.stop()
        await runner.cleanup()
