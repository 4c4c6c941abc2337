"""Where the guardian's state lives between ops: one JetStream KV entry per account (``<ns>_account`` /
``guardian.<handle>``).

Why KV and not a Postgres schema: the gateway already holds a NATS connection and nothing else (no database, no
migrations), the state is one small JSON document (a day of write and read records, the risk level), and KV gives
compare-and-set on the entry's revision, which is what two gateway replicas of one account need so neither loses
the other's counts. A restart reads it back, so a crash loop cannot reset the caps, the budget or the risk.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from libs.bus.streams import kv_bucket

log = logging.getLogger("xbot.browser_gateway")


class GuardianStore(Protocol):
    async def load(self) -> dict[str, Any]: ...

    async def load_changed(self) -> dict[str, Any] | None: ...

    async def save(self, document: dict[str, Any]) -> None: ...


class InMemoryGuardianStore:
    """For a gateway built without NATS (unit tests, the benchmark): forgets everything at exit."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {}

    async def load(self) -> dict[str, Any]:
        return dict(self.document)

    async def load_changed(self) -> dict[str, Any] | None:
        return None  # one process, no other replica: the document is this gateway's own last save

    async def save(self, document: dict[str, Any]) -> None:
        self.document = dict(document)


class KvGuardianStore:
    def __init__(self, kv: Any, handle: str) -> None:
        self.kv = kv
        self.key = f"guardian.{handle.lower()}"
        self.revision: int | None = None

    @classmethod
    async def open(cls, js: Any, namespace: str, handle: str) -> KvGuardianStore:
        try:
            kv = await js.key_value(kv_bucket(namespace, "account"))
        except Exception as err:  # noqa: BLE001 - nats-py's BucketNotFoundError and friends
            raise RuntimeError(f"the gateway's KV bucket {kv_bucket(namespace, 'account')} is missing "
                               f"({type(err).__name__}): run `xbot provision`") from None
        return cls(kv, handle)

    async def load(self) -> dict[str, Any]:
        return await self._read(changed_only=False) or {}

    async def load_changed(self) -> dict[str, Any] | None:
        """The entry when another replica saved it since this one last read or wrote it, else None: merging this
        gateway's own last save back would undo what it changed since (a lock found lifted, a write X refused)."""
        return await self._read(changed_only=True)

    async def _read(self, *, changed_only: bool) -> dict[str, Any] | None:
        known = self.revision
        try:
            entry = await self.kv.get(self.key)
        except KeyNotFoundError:
            self.revision = 0
            return None if changed_only else {}
        self.revision = entry.revision
        if changed_only and entry.revision == known:
            return None
        try:
            return json.loads(entry.value or b"{}")
        except ValueError:
            log.error("ALERT the guardian's state %s is unreadable; starting from empty counters", self.key)
            return {}

    async def save(self, document: dict[str, Any]) -> None:
        value = json.dumps(document, separators=(",", ":")).encode()
        try:
            if self.revision:
                self.revision = await self.kv.update(self.key, value, last=self.revision)
            else:  # the first save: another replica's first save may come first (then merged, as any other)
                self.revision = await self.kv.create(self.key, value)
        except KeyWrongLastSequenceError:
            # Another replica wrote meanwhile: the caller merges (gateway.py) and saves again.
            raise
