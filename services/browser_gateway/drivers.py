"""How the gateway reaches X: one interface, two drivers.

The browser driver (browser_driver.py) scripts X's web client in Chromium; the API driver (xapi/driver.py) calls
the official X API v2. Both take the same requests, answer with the same result models and fail with the same
typed :class:`GatewayError` codes, so callers never know which one served them. ``XBOT_X_WRITE_DRIVER`` picks the
driver of write operations and ``XBOT_X_READ_DRIVER`` the driver of everything else (settings.py).

What is the same for every driver (breakers, the session state, and the account's guards) is the gateway's
(gateway.py, ``BrowserGateway.run``); what belongs to one way of reaching X (the browser's context pool, priority
arbiter and human pacing; the API's rate-limit windows and spend) stays inside that driver.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel

from libs.contracts.gateway import GatewayRequest

DriverName = Literal["browser", "api"]


class XDriver(Protocol):
    name: DriverName

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def perform(self, request: GatewayRequest[Any]) -> BaseModel:
        """The op's result, or a GatewayError (typed; anything else is a bug the gateway answers for)."""
        ...

    async def reload_session(self) -> None:
        """Pick up new credentials (after `xbot login` / `xbot login --api`) without a restart."""
        ...

    def session_hint(self) -> str:
        """What a person must do when this driver's session has lapsed."""
        ...
