"""The live guard: the poster writes to the local sandbox unless posting to a real X is switched on on purpose.

The sandbox always runs on a loopback address, so "not loopback" means "possibly x.com". Refusing to start is
the safe failure: a misconfigured base URL must not turn a test run into posts on a real account.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from libs.runtime.settings import SettingsError


class LiveGuardRefusal(SettingsError):
    """Start-up refused; the message says why and what to set."""


def is_loopback(base_url: str) -> bool:
    host = urlsplit(base_url).hostname
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def check_target(base_url: str, *, live: bool) -> str:
    """Return "sandbox" or "live", or raise :class:`LiveGuardRefusal`."""
    if not urlsplit(base_url).hostname:
        raise LiveGuardRefusal(f"refusing to start: XBOT_X_BASE_URL={base_url!r} is not a URL with a host")
    if is_loopback(base_url):
        return "sandbox"
    if live:
        return "live"
    raise LiveGuardRefusal(
        f"refusing to start: XBOT_X_BASE_URL={base_url} is not the local sandbox (a loopback address), "
        "so the poster would write to a real X account, and XBOT_LIVE is not true. "
        "Set XBOT_LIVE=true to post there on purpose, or point XBOT_X_BASE_URL at the sandbox."
    )
