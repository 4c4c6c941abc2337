"""Typed operation failures and the breaker family each belongs to."""

from __future__ import annotations

from libs.contracts.gateway import RETRYABLE, GatewayError

# Breaker families: failures that share a cause share a breaker, so a burst of one kind stops the ops it
# concerns without stopping unrelated ones (a rate limit stops writes, not metric reads).
FAMILY_OF_CODE: dict[str, str] = {
    "rate_limited": "write_limits",
    "daily_limit": "write_limits",
    "duplicate": "content",
    "reply_not_allowed": "content",
    "account_gone": "content",
    "automation_block": "account",
    "locked": "account",
    "session_expired": "session",
    "dom_changed": "dom",
    "timeout": "browser",
    "browser_crashed": "browser",
    # The gateway's own refusals (guardian.py): X never saw the op, so they say nothing about X's health.
    "writes_paused": "guard",
    "not_live": "guard",
    "invalid_content": "guard",
    "budget_exhausted": "guard",
}
# Families whose open breaker only stops write ops.
WRITE_ONLY_FAMILIES = frozenset({"write_limits", "account"})
# duplicate is a property of one text, reply_not_allowed and account_gone of one target, not of the account: none
# opens a breaker.
UNTRIPPED_FAMILIES = frozenset({"content", "guard"})
FAMILIES = sorted(set(FAMILY_OF_CODE.values()) - UNTRIPPED_FAMILIES)
# When a family's breaker is open the op is refused with this code (retryable: the breaker will half-open).
CODE_WHEN_OPEN = {"write_limits": "rate_limited", "account": "automation_block", "session": "session_expired",
                  "dom": "dom_changed", "browser": "browser_crashed"}


def families_for(writes: bool) -> list[str]:
    return [f for f in FAMILIES if writes or f not in WRITE_ONLY_FAMILIES]


def op_error(code: str, message: str) -> GatewayError:
    return GatewayError(code, message, retryable=RETRYABLE[code])


def x_said(code: str, message: str) -> GatewayError:
    """A failure X itself answered (its words in a toast, an API error status): nothing of the op is still on its
    way to X, so the poster's read-back waits only for X's own delay after a ``timeout`` of this kind."""
    return GatewayError(code, message, retryable=RETRYABLE[code], x_answered=True)


class DomChanged(GatewayError):
    def __init__(self, what: str, selector: str) -> None:
        super().__init__("dom_changed", f"selector {what!r} ({selector}) matched nothing", retryable=False)


def unexpected(op: str, err: Exception) -> GatewayError:
    """The typed answer to a failure nobody foresaw: retryable, as a crashed browser's."""
    first_line = (str(err).splitlines() or [""])[0][:300]
    return op_error("browser_crashed", f"{op}: unexpected {type(err).__name__}: {first_line}")
