"""The kill switch: one KV entry (``<ns>_control`` / ``writes.paused``) that stops every write to X.

The one module that knows the key and its value. It fails closed: whoever reads it treats a value it cannot
trust as "paused" — a key that was deleted or purged (someone tampered with it), a value it cannot parse, a
bucket it cannot reach. A key that was never written reads as paused too: ``xbot provision`` writes the first
"resumed" value, so only an unprovisioned (or wiped) deployment meets a missing key.

Every change is a new KV revision; the poster compares revisions to tell an operator's resume after a halt
(locked, session expired) from the state it saw when the halt began.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from nats.js.errors import KeyDeletedError, KeyNotFoundError

from libs.bus.streams import kv_bucket

PAUSE_KEY = "writes.paused"


@dataclass(frozen=True)
class WriteSwitch:
    """What the kill switch says now."""

    paused: bool
    revision: int
    reason: str = ""
    by: str | None = None
    at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"paused": self.paused, "reason": self.reason, "by": self.by, "at": self.at,
                "revision": self.revision}


def _value(paused: bool, reason: str, by: str | None) -> bytes:
    return json.dumps({"paused": paused, "reason": reason, "by": by, "at": time.time()}).encode()


class KillSwitch:
    def __init__(self, kv: Any) -> None:
        self.kv = kv

    @classmethod
    async def open(cls, js: Any, namespace: str) -> KillSwitch:
        return cls(await js.key_value(kv_bucket(namespace, "control")))

    async def read(self) -> WriteSwitch:
        """The switch as it stands; anything untrustworthy reads as paused, with the reason why."""
        try:
            entry = await self.kv.get(PAUSE_KEY)
        except KeyDeletedError:
            return WriteSwitch(True, 0, "the kill switch was deleted: run `xbot resume` after checking why")
        except KeyNotFoundError:
            return WriteSwitch(True, 0, "the kill switch is not provisioned: run `xbot provision`")
        except Exception as err:  # noqa: BLE001 - unreachable KV: unsure whether writes are allowed, so no
            return WriteSwitch(True, 0, f"the kill switch is unreadable ({type(err).__name__})")
        revision = entry.revision or 0
        if entry.value is None or entry.operation in ("DEL", "PURGE"):
            return WriteSwitch(True, revision, "the kill switch was deleted: run `xbot resume` after checking why")
        try:
            value = json.loads(entry.value)
            paused = value["paused"]
            if not isinstance(paused, bool):
                raise TypeError("paused is not a boolean")
        except (ValueError, KeyError, TypeError) as err:
            return WriteSwitch(True, revision, f"the kill switch holds an unreadable value ({err})")
        return WriteSwitch(paused, revision, str(value.get("reason") or ""), value.get("by"), value.get("at"))

    async def pause(self, reason: str, *, by: str | None = None) -> int:
        return int(await self.kv.put(PAUSE_KEY, _value(True, reason, by)))

    async def resume(self, *, by: str | None = None, reason: str = "resumed") -> int:
        return int(await self.kv.put(PAUSE_KEY, _value(False, reason, by)))

    async def provision(self) -> bool:
        """Write the first value ("resumed") on a bucket that never had one; True when it was written. A value the
        operator set, and a deleted key (which stays paused until someone resumes on purpose), are left alone."""
        try:
            await self.kv.get(PAUSE_KEY)
            return False
        except KeyDeletedError:
            return False
        except KeyNotFoundError:
            pass
        try:
            await self.kv.create(PAUSE_KEY, _value(False, "provisioned", "xbot provision"))
        except Exception:  # noqa: BLE001 - a concurrent provisioning wrote it first
            return False
        return True


class KillSwitchReader:
    """The kill switch for a reader that may start before the bucket exists (the gateway): the bucket is opened
    on the first read that finds it; until then, and whenever a read fails, the switch reads as paused."""

    def __init__(self, js: Any, namespace: str) -> None:
        self.js = js
        self.namespace = namespace
        self._switch: KillSwitch | None = None

    async def read(self) -> WriteSwitch:
        if self._switch is None:
            try:
                self._switch = await KillSwitch.open(self.js, self.namespace)
            except Exception as err:  # noqa: BLE001 - no bucket, no connection: unsure, so paused
                return WriteSwitch(True, 0, f"the kill switch is unreadable ({type(err).__name__}): "
                                            "run `xbot provision`")
        return await self._switch.read()
