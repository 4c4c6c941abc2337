"""The live guard: nothing writes to anything but a sandbox unless posting to a real X is switched on on purpose.

One rule, one function (:func:`check_target`), used by both components that could write: the poster refuses to
start, and the browser gateway refuses every write operation (before any navigation) while the check fails, so a
request sent straight to the gateway cannot get round it.

Which host is which, from the host of ``XBOT_X_BASE_URL``:

* a loopback address (127.0.0.0/8, ::1, ``localhost``, ``*.localhost``) is the sandbox (``xbot sandbox``);
* a host named in ``XBOT_X_SANDBOX_HOSTS`` (comma-separated, exact names, default none) is a sandbox too, e.g.
  ``sandbox``, the compose service of the X look-alike;
* x.com, twitter.com and their subdomains are real X: they need ``XBOT_LIVE=true`` and can never be listed as
  a sandbox;
* any other host may be X behind a name or a proxy, so it is treated like real X: ``XBOT_LIVE=true`` or listing
  it as a sandbox.

Refusing is the safe failure: a misconfigured base URL must not turn a test run into posts on a real
account. The checks are on names only (nothing is resolved), so they give the same answer on every machine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from libs.core.account import AccountSettings
from libs.core.settings import SettingsError

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


def check_target(base_url: str, *, live: bool, sandbox_hosts: str | Iterable[str] | None = (),
                 refusing: str = "refusing to start") -> str:
    """Return "sandbox" or "live", or raise :class:`LiveGuardRefusal` naming the variables to set.

    ``sandbox_hosts`` is ``XBOT_X_SANDBOX_HOSTS``: a comma-separated string or a list of names. ``refusing`` opens
    the message: what the caller refuses (the poster to start, the gateway its writes).
    """
    listed = _parse_or_refuse(sandbox_hosts, refusing)
    scheme = _scheme(base_url)
    host = host_of(base_url)
    if scheme not in ("http", "https") or not host:
        raise LiveGuardRefusal(f"{refusing}: {BASE_URL_VAR}={base_url!r} is not an http(s) URL with a host")
    if any(c == "\\" or c.isspace() or not c.isprintable() for c in base_url):
        # Python and Chromium split such a URL differently ("http://x.com\@sandbox" is x.com to the browser).
        raise LiveGuardRefusal(f"{refusing}: {BASE_URL_VAR}={base_url!r} contains a backslash, a space or "
                               "a control character")
    if is_loopback(base_url) or host in listed:
        return "sandbox"
    if live:
        return "live"
    where = ", ".join(listed) if listed else "none"
    if is_real_x(host):
        raise LiveGuardRefusal(
            f"{refusing}: {BASE_URL_VAR}={base_url} is real X ({host}), so xbot would write to a "
            f"real account, and {LIVE_VAR} is not true. Set {LIVE_VAR}=true to post there on purpose, or point "
            f"{BASE_URL_VAR} at a sandbox (a loopback address, or a host listed in {SANDBOX_HOSTS_VAR}).")
    raise LiveGuardRefusal(
        f"{refusing}: {BASE_URL_VAR}={base_url} names host {host!r}, which is neither a loopback address "
        f"nor listed in {SANDBOX_HOSTS_VAR} (listed: {where}), so it is treated as a real X account, and "
        f"{LIVE_VAR} is not true. If it is a sandbox, add {host} to {SANDBOX_HOSTS_VAR} (comma-separated host "
        f"names); to post to a real X on purpose, set {LIVE_VAR}=true.")


def _scheme(base_url: str) -> str:
    try:
        return urlsplit(base_url).scheme.lower()
    except ValueError:
        return ""


def _parse_or_refuse(value: str | Iterable[str] | None, refusing: str) -> tuple[str, ...]:
    try:
        return parse_sandbox_hosts(value)
    except ValueError as err:
        raise LiveGuardRefusal(f"{refusing}: invalid {SANDBOX_HOSTS_VAR}: {err}") from None


APPROVAL_KINDS: dict[str, frozenset[str]] = {
    "all": frozenset({"post", "thread", "reply"}), "posts": frozenset({"post", "thread"}), "none": frozenset()}


class ApprovalSettings(AccountSettings):
    """Which items wait for the owner's approval (``XBOT_APPROVAL``), read the same way by every component that
    acts on it: the poster (holds them), the console (asks the owner) and the planner (queues only approved
    evergreen posts)."""

    # Writing anywhere but a sandbox needs XBOT_LIVE=true. A sandbox is a loopback address or a host named in
    # XBOT_X_SANDBOX_HOSTS (comma-separated, e.g. "sandbox" in compose).
    live: bool = False
    # Which items wait for the owner's approval in the console before the poster may post them (issue 22): all,
    # posts (posts and threads; replies do not wait) or none. Unset: all when live, none against a sandbox. On a
    # live account replies wait whatever this says (approval_kinds).
    approval: Literal["all", "posts", "none"] | None = None

    def approval_kinds(self) -> frozenset[str]:
        """The kinds of items that wait for the owner's approval (the poster and the console read the same).

        On a live account replies always wait. X's developer guidelines (docs.x.com/developer-guidelines, "Replies
        & Mentions") do not allow an app that "auto-replies to anyone mentioning a keyword" (unsolicited), and an app
        whose AI "generates and posts replies" needs X's prior approval; xbot's replies are a model's, to posts found
        by keyword searches. With each one approved in the console, a person decides every reply the account
        sends."""
        mode = self.approval or ("all" if self.live else "none")
        return APPROVAL_KINDS[mode] | ({"reply"} if self.live else frozenset())

    def replies_wait_despite_setting(self) -> bool:
        """Whether XBOT_APPROVAL says replies need no approval, which a live account overrules (approval_kinds)."""
        return self.live and "reply" not in APPROVAL_KINDS[self.approval or "all"]


class WriteTargetSettings(ApprovalSettings):
    """Where writes go and the hard limits of what is written: the same variables in the poster and the gateway,
    which must agree (the gateway enforces them whatever the poster asks)."""

    x_base_url: str = "http://127.0.0.1:8400"  # `xbot sandbox` listens there by default
    x_sandbox_hosts: str = ""
    # The most parts a thread may have (the niche file's gates.thread_max_parts should not exceed it); X's
    # composer takes 25.
    thread_max_parts: int = Field(default=6, ge=2, le=25)

    @field_validator("x_sandbox_hosts")
    @classmethod
    def _sandbox_hosts_are_host_names(cls, value: str) -> str:
        parse_sandbox_hosts(value)  # a URL, a port or a real X host stops start-up with the variable named
        return value

    def write_target(self, *, refusing: str = "refusing to start") -> str:
        """"sandbox" or "live", or :class:`LiveGuardRefusal`."""
        return check_target(self.x_base_url, live=self.live, sandbox_hosts=self.x_sandbox_hosts, refusing=refusing)
