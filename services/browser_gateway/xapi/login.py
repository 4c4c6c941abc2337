"""``xbot login --api``: the OAuth 2.0 authorisation code flow with PKCE, for a person at a terminal.

It prints the authorisation URL; the person opens it, signs in to X and allows the app; X sends the browser to
the redirect URI with a code, which reaches us either through a local listener on the redirect URI (when it is
on this machine) or as the callback URL pasted at the prompt. The code and the PKCE verifier buy the tokens,
written to ``XBOT_X_API_TOKEN_FILE`` with mode 0600.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
from aiohttp import web
from oauthlib.oauth2 import WebApplicationClient

from libs.contracts.gateway import GatewayError
from libs.core.clock import Clock
from services.browser_gateway.settings import GatewaySettings
from services.browser_gateway.xapi.tokens import TokenSet, request_token, write_private


class ApiSignIn:
    def __init__(self, settings: GatewaySettings, clock: Clock) -> None:
        if not settings.x_api_client_id:
            raise ValueError("XBOT_X_API_CLIENT_ID is not set: register an app on X's developer portal first")
        self.settings = settings
        self.clock = clock
        self.client = WebApplicationClient(settings.x_api_client_id)
        # 128 characters, the longest RFC 7636 allows; S256 never sends it until the token request.
        self.verifier = self.client.create_code_verifier(128)
        self.state = secrets.token_urlsafe(24)

    def authorization_url(self) -> str:
        s = self.settings
        params = {"response_type": "code", "client_id": s.x_api_client_id, "redirect_uri": s.x_api_redirect_uri,
                  "scope": s.x_api_scopes, "state": self.state,
                  "code_challenge": self.client.create_code_challenge(self.verifier, "S256"),
                  "code_challenge_method": "S256"}
        return f"{s.api_authorize_url}?{urlencode(params)}"

    async def complete(self, callback_url: str, *, token_file: Path | None = None) -> TokenSet:
        """Exchange the callback's code for tokens and store them; GatewayError (session_expired) when the
        person declined or X refused, ValueError for a URL that is not this sign-in's callback."""
        query = parse_qs(urlsplit(callback_url.strip()).query)
        if query.get("state", [""])[0] != self.state:
            raise ValueError("the callback's state does not match this sign-in (an old or forged callback URL)")
        if "error" in query:
            raise GatewayError("session_expired", f"X did not authorise the app: {query['error'][0]}",
                               retryable=False)
        code = query.get("code", [""])[0]
        if not code:
            raise ValueError("the callback URL carries no code")
        body = self.client.prepare_request_body(code=code, redirect_uri=self.settings.x_api_redirect_uri,
                                                code_verifier=self.verifier, include_client_id=True)
        async with aiohttp.ClientSession() as http:
            tokens = await request_token(http, self.settings, self.clock, body, self.client)
        write_private(Path(token_file or self.settings.x_api_token_file), tokens.to_json())
        return tokens


async def wait_for_callback(redirect_uri: str) -> str:
    """Listen on the redirect URI's host and port until X's redirect arrives; its full URL."""
    parts = urlsplit(redirect_uri)
    arrived: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def callback(request: web.Request) -> web.Response:
        if not arrived.done():
            arrived.set_result(redirect_uri.split("?")[0] + "?" + request.query_string)
        return web.Response(text="xbot: sign-in received; you can close this window.")

    app = web.Application()
    app.router.add_get(parts.path or "/", callback)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, parts.hostname, parts.port or 80)
    await site.start()
    try:
        return await arrived
    finally:
        await runner.cleanup()


def _ask_in_background(ask, prompt: str) -> asyncio.Future[str]:
    """The prompt on a daemon thread: when the listener answers first, nobody has to press Enter to exit."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def read() -> None:
        try:
            text = ask(prompt)
        except EOFError:  # no terminal: the listener is the only way in
            return
        def settle() -> None:
            if not answer.done():
                answer.set_result(text)

        loop.call_soon_threadsafe(settle)

    threading.Thread(target=read, daemon=True).start()
    return answer


def listens_locally(redirect_uri: str) -> bool:
    return (urlsplit(redirect_uri).hostname or "") in ("127.0.0.1", "localhost", "::1")


async def sign_in(settings: GatewaySettings, clock: Clock, *, ask=input, say=print) -> Path:
    """The terminal flow of `xbot login --api`: a local listener and a paste prompt, whichever answers first."""
    flow = ApiSignIn(settings, clock)
    say("Open this URL, sign in to X and allow the app:\n\n" + flow.authorization_url() + "\n")
    waiters: list[asyncio.Future[str]] = [_ask_in_background(ask, "...or paste the URL X sent you to: ")]
    if listens_locally(settings.x_api_redirect_uri):
        say(f"(waiting for X's redirect on {settings.x_api_redirect_uri})")
        waiters.append(asyncio.ensure_future(wait_for_callback(settings.x_api_redirect_uri)))
    done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await flow.complete(next(iter(done)).result())
    return settings.x_api_token_file
