"""Sign-in rules of the console, pure: the password hash (scrypt, from the standard library), tokens, the CSRF
check and the throttle of failed sign-ins. The web layer (web.py) stores and reads; nothing here does I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# scrypt's cost: about 50 ms and 16 MiB per check on this machine, which is what makes a stolen hash slow to
# guess; the parameters travel in the stored string, so raising them later leaves old hashes readable.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 10


class WeakPassword(ValueError):
    pass


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64): what ``xbot console set-password`` stores."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"the password needs at least {MIN_PASSWORD} characters")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(base64.b64decode(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the session table keeps: a leaked table row does not sign anyone in."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_ok(expected: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(expected.encode(), (sent or "").encode())


def from_own_origin(origin: str | None, referer: str | None, host: str) -> bool:
    """Whether a form post comes from the console's own pages: its Origin (or, without one, its Referer) names the
    host and port the request was sent to (its Host header). Browsers send an Origin with every cross-site POST
    (``null`` when hidden: refused); a request with neither comes from no browser page (curl, a script) and no
    other site can make one. The scheme is not compared: a TLS proxy in front of the console speaks http to it
    (it must pass the Host header on)."""
    sent = origin if origin is not None else referer
    if sent is None:
        return True
    try:
        return urlsplit(sent).netloc.lower() == host.lower()
    except ValueError:  # not a URL ("http://[::1"): from nowhere known
        return False


@dataclass
class Throttle:
    """Failed sign-ins per client address and overall within a sliding window (real seconds). Past the limit the
    password is not even checked, so guessing runs at most ``limit`` tries per window per address, and at most
    ``4 * limit`` in all (an attacker with many addresses)."""

    limit: int
    window_s: float
    by_client: dict[str, deque[float]] = field(default_factory=dict)
    everyone: deque[float] = field(default_factory=deque)

    def _trim(self, q: deque[float], now: float) -> deque[float]:
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def blocked(self, client: str, now: float) -> float | None:
        """Seconds until the client may try again, or None when it may try now."""
        mine = self._trim(self.by_client.get(client, deque()), now)
        everyone = self._trim(self.everyone, now)
        if len(mine) >= self.limit:
            return mine[0] + self.window_s - now
        if len(everyone) >= 4 * self.limit:
            return everyone[0] + self.window_s - now
        return None

    def failed(self, client: str, now: float) -> None:
        self.by_client.setdefault(client, deque()).append(now)
        self.everyone.append(now)

    def succeeded(self, client: str) -> None:
        self.by_client.pop(client, None)
