"""The live guard: the poster writes to a sandbox unless posting to a real X is switched on on purpose.

Which host is which, from the host of ``XBOT_X_BASE_URL``:

* a loopback address (127.0.0.0/8, ::1, ``localhost``, ``*.localhost``) is the sandbox (``xbot sandbox``);
* a host named in ``XBOT_X_SANDBOX_HOSTS`` (comma-separated, exact names, default none) is a sandbox too, e.g.
  ``sandbox``, the compose service of the X look-alike;
* x.com, twitter.com and their subdomains are real X: they need ``XBOT_LIVE=true`` and can never be listed as
  a sandbox;
* any other host may be X behind a name or a proxy, so it is treated like real X: ``XBOT_LIVE=true`` or listing
  it as a sandbox.

Refusing to start is the safe failure: a misconfigured base URL must not turn a test run into posts on a real
account. The checks are on names only (nothing is resolved), so they give the same answer on every machine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from libs.runtime.settings import SettingsError

BASE_URL_VAR = "XBOT_X_BASE_URL"
LIVE_VAR = "XBOT_LIVE"
SANDBOX_HOSTS_VAR = "XBOT_X_SANDBOX_HOSTS"
# Domains of the real X: the domain itself and every subdomain (www.x.com, mobile.twitter.com, ...).
REAL_X_DOMAINS = ("x.com", "twitter.com")


class LiveGuardRefusal(SettingsError):
    """Start-up refused; the message says why and what to set."""


def _normal_host(host: str) -> str:
    return host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")


def host_of(base_url: str) -> str | None:
    """The URL's host, lower case, without a trailing dot or IPv6 brackets; None when it has none."""
    try:
        host = urlsplit(base_url).hostname
    except ValueError:  # e.g. an unbalanced "[" in the netloc
        return None
    if not host:
        return None
    return _normal_host(host) or None


def is_loopback(base_url: str) -> bool:
    host = host_of(base_url)
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def is_real_x(host: str) -> bool:
    host = _normal_host(host)
    return any(host == domain or host.endswith("." + domain) for domain in REAL_X_DOMAINS)


def parse_sandbox_hosts(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Parse ``XBOT_X_SANDBOX_HOSTS`` (a comma-separated string, or names already split) into host names.

    Raises ValueError for an entry that is not a bare host name or IP address (a URL, a port, a wildcard: it
    would never match, so the operator learns now rather than from a refusal that names the right host), and for
    a real X host, which must not be declared a sandbox.
    """
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    hosts: list[str] = []
    for item in items:
        host = _normal_host(item)
        if not host:
            continue
        if not _is_host_name(host):
            raise ValueError(f"{item.strip()!r} is not a host name: list bare names or IP addresses, "
                             "comma-separated, without scheme, port or path (e.g. sandbox,10.0.0.5)")
        if is_real_x(host):
            raise ValueError(f"{host!r} is real X and cannot be a sandbox: writing there needs {LIVE_VAR}=true")
        hosts.append(host)
    return tuple(dict.fromkeys(hosts))


def _is_host_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    return all(label and len(label) <= 63 and all(c.isascii() and (c.isalnum() or c in "-_") for c in label)
               for label in labels)


def check_target(base_url: str, *, live: bool, sandbox_hosts: str | Iterable[str] | None = ()) -> str:
    """Return "sandbox" or "live", or raise :class:`LiveGuardRefusal` naming the variables to set.

    ``sandbox_hosts`` is ``XBOT_X_SANDBOX_HOSTS``: a comma-separated string or a list of names.
    """
    listed = _parse_or_refuse(sandbox_hosts)
    scheme = _scheme(base_url)
    host = host_of(base_url)
    if scheme not in ("http", "https") or not host:
        raise LiveGuardRefusal(f"refusing to start: {BASE_URL_VAR}={base_url!r} is not an http(s) URL with a host")
    if any(c == "\\" or c.isspace() or not c.isprintable() for c in base_url):
        # Python and Chromium split such a URL differently ("http://x.com\@sandbox" is x.com to the browser).
        raise LiveGuardRefusal(f"refusing to start: {BASE_URL_VAR}={base_url!r} contains a backslash, a space or "
                               "a control character")
    if is_loopback(base_url) or host in listed:
        return "sandbox"
    if live:
        return "live"
    where = ", ".join(listed) if listed else "none"
    if is_real_x(host):
        raise LiveGuardRefusal(
            f"refusing to start: {BASE_URL_VAR}={base_url} is real X ({host}), so the poster would write to a "
            f"real account, and {LIVE_VAR} is not true. Set {LIVE_VAR}=true to post there on purpose, or point "
            f"{BASE_URL_VAR} at a sandbox (a loopback address, or a host listed in {SANDBOX_HOSTS_VAR}).")
    raise LiveGuardRefusal(
        f"refusing to start: {BASE_URL_VAR}={base_url} names host {host!r}, which is neither a loopback address "
        f"nor listed in {SANDBOX_HOSTS_VAR} (listed: {where}), so it is treated as a real X account, and "
        f"{LIVE_VAR} is not true. If it is a sandbox, add {host} to {SANDBOX_HOSTS_VAR} (comma-separated host "
        f"names); to post to a real X on purpose, set {LIVE_VAR}=true.")


def _scheme(base_url: str) -> str:
    try:
        return urlsplit(base_url).scheme.lower()
    except ValueError:
        return ""


def _parse_or_refuse(value: str | Iterable[str] | None) -> tuple[str, ...]:
    try:
        return parse_sandbox_hosts(value)
    except ValueError as err:
        raise LiveGuardRefusal(f"refusing to start: invalid {SANDBOX_HOSTS_VAR}: {err}") from None
