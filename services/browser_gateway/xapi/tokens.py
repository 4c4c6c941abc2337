"""OAuth 2.0 user-context tokens of the X API: the token file `xbot login --api` writes, the token request
(code exchange and refresh) and the keeper that refreshes before expiry.

The token request is built and its answer checked by oauthlib (RFC 6749 + PKCE), sent with aiohttp. Tokens are
secrets like the browser session: SecretStr in memory, a file of mode 0600 on disk, registered with the log
redaction the moment they are read.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import aiohttp
from oauthlib.oauth2 import MissingTokenError, OAuth2Error, WebApplicationClient
from pydantic import BaseModel, SecretStr

from libs.contracts.gateway import GatewayError
from libs.core.clock import Clock
from libs.core.logging import redact
from services.browser_gateway.errors import op_error
from services.browser_gateway.settings import GatewaySettings
from services.browser_gateway.xapi.ratelimits import seconds_until

LOGIN_HINT = "X API token missing or refused: run `xbot login --api`"


class TokenSet(BaseModel):
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    # Clock seconds when the access token expires; None if X did not say.
    expires_at: float | None = None
    scope: str = ""
    token_type: str = "bearer"

    def to_json(self) -> str:
        return json.dumps({
            "access_token": self.access_token.get_secret_value(),
            "refresh_token": self.refresh_token.get_secret_value() if self.refresh_token else None,
            "expires_at": self.expires_at, "scope": self.scope, "token_type": self.token_type})


def write_private(path: Path, text: str) -> None:
    """Write a credential: created 0600 (never readable by others, not even for an instant), replaced whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)  # a left-over tmp file keeps its old mode through O_CREAT
    os.replace(tmp, path)


def load_tokens(path: Path) -> TokenSet | None:
    if not path.exists():
        return None
    tokens = TokenSet.model_validate_json(path.read_text())
    redact(tokens.access_token.get_secret_value(),
           tokens.refresh_token.get_secret_value() if tokens.refresh_token else None)
    return tokens


def token_url(settings: GatewaySettings) -> str:
    return settings.api_base_url + "/2/oauth2/token"


async def request_token(http: aiohttp.ClientSession, settings: GatewaySettings, clock: Clock, body: str,
                        client: WebApplicationClient) -> TokenSet:
    """POST a token request (code exchange or refresh); the tokens, or GatewayError: ``session_expired`` only when
    X refuses the grant or the client (an OAuth error: invalid_grant, invalid_request, unauthorized_client...);
    ``rate_limited`` (with X's reset) after a 429 and ``timeout`` after a 5xx or an answer that is neither, both
    retryable: the refresh token is still good, and signing in again would hold the writes for nothing."""
    auth = None
    if settings.x_api_client_secret is not None:  # a confidential client authenticates with HTTP Basic
        auth = aiohttp.BasicAuth(settings.x_api_client_id or "", settings.x_api_client_secret.get_secret_value())
    try:
        async with http.post(token_url(settings), data=body, auth=auth,
                             headers={"Content-Type": "application/x-www-form-urlencoded"}) as resp:
            text = await resp.text()
            status, headers = resp.status, resp.headers
    except (aiohttp.ClientError, TimeoutError) as err:
        raise op_error("timeout", f"X API token endpoint unreachable: {type(err).__name__}: {err}") from None
    if status == 429:
        raise GatewayError("rate_limited", f"X API token endpoint answered 429: {text[:200]}", retryable=True,
                           retry_after_s=seconds_until(headers, ("x-rate-limit-reset",), clock.timestamp()))
    if status >= 500:
        raise op_error("timeout", f"X API token endpoint answered {status}")
    try:
        token = client.parse_request_body_response(text)
    except MissingTokenError:  # an answer without a token that is no OAuth error either: not a refusal
        raise op_error("timeout", f"X API token endpoint answered {status} with no token: {text[:200]}") from None
    except OAuth2Error as err:
        raise GatewayError("session_expired", f"X API refused the token request ({status} {err.error}: "
                                              f"{err.description}): run `xbot login --api`",
                           retryable=False) from None
    except ValueError:
        raise op_error("timeout", f"X API token endpoint answered {status} with no token") from None
    expires_in = token.get("expires_in")
    tokens = TokenSet(access_token=token["access_token"], refresh_token=token.get("refresh_token"),
                      expires_at=clock.timestamp() + float(expires_in) if expires_in else None,
                      scope=" ".join(token.get("scope") or []) if isinstance(token.get("scope"), list)
                      else str(token.get("scope") or ""),
                      token_type=str(token.get("token_type", "bearer")))
    redact(tokens.access_token.get_secret_value(),
           tokens.refresh_token.get_secret_value() if tokens.refresh_token else None)
    return tokens


class OAuth2Tokens:
    """The driver's access token, refreshed ``x_api_refresh_margin`` before it expires (and once more when X
    answers 401 before then); every refresh is written back to the token file, because X rotates refresh
    tokens and the old one stops working."""

    def __init__(self, settings: GatewaySettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.tokens: TokenSet | None = load_tokens(settings.x_api_token_file)
        self._lock = asyncio.Lock()
        self.refreshes = 0

    def reload(self) -> None:
        self.tokens = load_tokens(self.settings.x_api_token_file)

    def _due(self) -> bool:
        t = self.tokens
        return t is not None and t.expires_at is not None and \
            t.expires_at - self.settings.x_api_refresh_margin.total_seconds() <= self.clock.timestamp()

    async def bearer(self, http: aiohttp.ClientSession) -> str:
        if self.tokens is None:
            raise GatewayError("session_expired", LOGIN_HINT, retryable=False)
        if self._due():
            await self.refresh(http, stale=self.tokens)
        assert self.tokens is not None
        return self.tokens.access_token.get_secret_value()

    async def refresh(self, http: aiohttp.ClientSession, *, stale: TokenSet | None) -> None:
        """Refresh unless another op already did since ``stale`` was read (one refresh per expiry)."""
        async with self._lock:
            if self.tokens is not stale:
                return
            if self.tokens is None or self.tokens.refresh_token is None:
                raise GatewayError("session_expired", f"{LOGIN_HINT} (no refresh token: the offline.access "
                                                      "scope was not granted)", retryable=False)
            client = WebApplicationClient(self.settings.x_api_client_id)
            body = client.prepare_refresh_body(refresh_token=self.tokens.refresh_token.get_secret_value(),
                                               client_id=self.settings.x_api_client_id)
            fresh = await request_token(http, self.settings, self.clock, body, client)
            if fresh.refresh_token is None:  # X may keep the refresh token unchanged and not repeat it
                fresh = fresh.model_copy(update={"refresh_token": self.tokens.refresh_token})
            write_private(self.settings.x_api_token_file, fresh.to_json())
            self.tokens = fresh
            self.refreshes += 1
