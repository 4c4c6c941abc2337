"""What the X API costs, and the daily cap that holds reads first and writes last.

X prices its API per use (from February 2026): a post read, a user read, a post created (more with a URL),
each resource charged once per UTC day, so reading the same post twice in a day costs once. The ledger records
what was charged; :class:`SpendCap` refuses an op before it is sent when what it may cost would pass the part of
the cap its class may use: reads stop at ``read_share`` of the cap, so the rest stays for writes, which stop
only at the cap itself.

The ledger lives in memory and is saved with the guardian's state (guardian_store.py, JetStream KV) after every
op, as a document of today's charges (:meth:`SpendLedger.to_dict`): a restarted gateway (or a crash loop) starts
from what was spent today instead of from zero, and two replicas' charges are merged, as the write caps are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

from libs.contracts.gateway import GatewayError
from libs.core.clock import Clock
from libs.text import find_urls

ResourceKind = Literal["post_read", "user_read", "post_create", "post_create_url"]
# The gateway's own refusal, like the activity budget's: retryable, with when to retry. Not rate_limited, which
# is X's warning: it would raise the account's risk level and open the write-limits breaker for a cap that X
# knows nothing about (seen in `xbot demo --driver api`, where the reads reached their share within a day).
SPEND_CAP_CODE = "budget_exhausted"


@dataclass(frozen=True)
class Prices:
    post_read: float = 0.005
    user_read: float = 0.010
    post_create: float = 0.015
    post_create_url: float = 0.20

    def of(self, kind: ResourceKind) -> float:
        return float(getattr(self, kind))

    def post_create_kind(self, text: str) -> ResourceKind:
        # A URL as X links it (the same rule as X's length count), scheme or not.
        return "post_create_url" if find_urls(text) else "post_create"


class SpendLedger(Protocol):
    def charge(self, day: date, kind: ResourceKind, resource_id: str, price: float) -> float:
        """Record a resource served on ``day``; the amount charged (0 when it was already charged that day)."""
        ...

    def spent(self, day: date) -> float: ...

    def counts(self, day: date) -> dict[str, int]:
        """Resources charged on ``day`` by kind."""
        ...

    def to_dict(self, day: date) -> dict[str, Any]:
        """``day``'s charges, for the guardian's document (older days are never asked for again)."""
        ...

    def merge(self, data: dict[str, Any]) -> None:
        """Add charges saved by :meth:`to_dict` (a restart, another replica); a charge already known stays one."""
        ...


@dataclass
class InMemorySpendLedger:
    _charged: dict[date, dict[tuple[str, str], float]] = field(default_factory=dict)

    def charge(self, day: date, kind: ResourceKind, resource_id: str, price: float) -> float:
        today = self._charged.setdefault(day, {})
        key = (kind, resource_id)
        if key in today:
            return 0.0
        today[key] = price
        # Only today and yesterday are ever asked for; older days go.
        for old in [d for d in self._charged if d < day - timedelta(days=1)]:
            del self._charged[old]
        return price

    def spent(self, day: date) -> float:
        return sum(self._charged.get(day, {}).values())

    def counts(self, day: date) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind, _ in self._charged.get(day, {}):
            out[kind] = out.get(kind, 0) + 1
        return out

    def to_dict(self, day: date) -> dict[str, Any]:
        charged = self._charged.get(day, {})
        return {"day": day.isoformat(), "charged": [[kind, rid, price] for (kind, rid), price in charged.items()]}

    def merge(self, data: dict[str, Any]) -> None:
        try:
            day = date.fromisoformat(str(data["day"]))
            rows = [(str(kind), str(rid), float(price)) for kind, rid, price in data["charged"]]
        except (KeyError, TypeError, ValueError):
            return  # nothing saved yet (or an older gateway's document): today starts from what this one charges
        today = self._charged.setdefault(day, {})
        for kind, rid, price in rows:
            today.setdefault((kind, rid), price)


class SpendCap:
    def __init__(self, clock: Clock, *, prices: Prices, daily_cap_usd: float, read_share: float,
                 ledger: SpendLedger | None = None) -> None:
        self.clock = clock
        self.prices = prices
        self.daily_cap_usd = daily_cap_usd
        self.read_share = read_share
        self.ledger: SpendLedger = ledger or InMemorySpendLedger()

    def today(self) -> date:
        return self.clock.now().astimezone(UTC).date()

    def spent_today(self) -> float:
        return self.ledger.spent(self.today())

    def _until_tomorrow_s(self) -> float:
        now = self.clock.now().astimezone(UTC)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        return (midnight - now).total_seconds()

    def hold(self, *, writes: bool, cost: float = 0.0) -> None:
        """Raise the typed, retryable refusal when the day's spend leaves no room for this op's class.

        ``cost`` is what the op may cost at most: a write's price is known before it is sent; a read's is only
        known from its answer (posts already charged today are free), so a read reserves its worst case (see
        :meth:`hold_read`) and never eats into what is kept for writes."""
        spent = self.spent_today()
        limit = self.daily_cap_usd if writes else self.daily_cap_usd * self.read_share
        over = spent + cost > limit + 1e-9 or spent >= limit - 1e-9
        if over:
            what = "writes" if writes else "reads"
            raise GatewayError(
                SPEND_CAP_CODE, f"X API daily spend cap: ${spent:.3f} spent today (UTC); {what} stop at "
                f"${limit:.3f} (XBOT_X_API_DAILY_CAP_USD={self.daily_cap_usd:g}, reads' share "
                f"{self.read_share:g})", retryable=True, retry_after_s=self._until_tomorrow_s())

    def read_room(self) -> float:
        """USD reads may still spend today."""
        return max(0.0, self.daily_cap_usd * self.read_share - self.spent_today())

    def hold_read(self, *, posts: int = 0, users: int = 0) -> None:
        """Before a read that may return up to ``posts`` posts and ``users`` users, each a new resource today."""
        self.hold(writes=False, cost=posts * self.prices.post_read + users * self.prices.user_read)

    def charge(self, kind: ResourceKind, resource_ids: list[str]) -> float:
        day, price = self.today(), self.prices.of(kind)
        return sum(self.ledger.charge(day, kind, rid, price) for rid in resource_ids)
