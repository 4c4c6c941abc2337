"""The poison run, shared by the CI test and ``xbot bench chaos``: every consuming service runs in-process
against a fresh namespace; fuzzed poison and contract-valid events are published interleaved on every subject
they consume; then every consumer must have moved to its stream's end, every poison message must be a dead
letter of every consumer of its stream (with a reason), and no valid event may be one.

One valid ContentQueued is made to fail in the poster's database (a CHECK constraint an operator added by
mistake): it must be dead-lettered after its retries, and ``python -m services.poster dlq-retry N`` must
re-apply it once the constraint is gone.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from nats.js import JetStreamContext

from libs.bus.broker import make_broker
from libs.bus.publish import EventPublisher
from libs.contracts.events import Choice, ContentQueued, OwnerPostQueued
from libs.core.clock import Clock
from libs.core.settings import CommonSettings
from tests.chaos import fuzz, system

ROOT = Path(__file__).resolve().parents[2]
BLOCKED_ID = "chaos-blocked-by-operator-constraint"


@dataclass
class PoisonReport:
    services: list[str]
    subjects: list[str]
    poison_published: int = 0
    valid_published: int = 0
    duplicates_dropped_by_stream: int = 0
    poison_kinds: Counter = field(default_factory=Counter)
    letters: int = 0
    seconds_to_settle: float = 0.0
    dlq_retry_reapplied: bool = False
    violations: list[str] = field(default_factory=list)

    def figures(self) -> dict:
        return {"services": self.services, "subjects": len(self.subjects), "poison": self.poison_published,
                "valid": self.valid_published, "poison_kinds": dict(self.poison_kinds),
                "dead_letters": self.letters, "seconds_to_settle": round(self.seconds_to_settle, 1),
                "dlq_retry_reapplied": self.dlq_retry_reapplied, "violations": self.violations}


def blocked_item() -> ContentQueued:
    now = datetime.now(UTC)
    return ContentQueued(content_id=BLOCKED_ID, kind="post", parts=["A post the database refuses for now."],
                         choice=Choice(content_type="practical_tip", topic="sleep", hour=9),
                         policy_version="uniform", propensity=0.5, scheduled_for=now,
                         expires_at=now + timedelta(hours=6))


async def run(settings: CommonSettings, js: JetStreamContext, *, poison: int, valid: int, seed: int = 0,
              settle_timeout: float = 90.0) -> PoisonReport:
    ns, dsn = settings.namespace, settings.dsn
    services = system.consumers(settings)
    for svc in services:
        await system.fresh_schema(dsn, svc.name)
        for p in svc.projections:
            # Two attempts before a failing (not poison) event is dead-lettered: keeps the run short.
            p.max_deliver = 2
        await svc.provision()
    await system.pause_writes(js, ns, "chaos poison run: no posting")
    by_name = {s.name: s for s in services}
    if "poster" in by_name:
        await by_name["poster"].migrate()
        await by_name["poster"].pool.execute(  # type: ignore[union-attr]
            f"ALTER TABLE queue ADD CONSTRAINT chaos_block CHECK (content_id <> '{BLOCKED_ID}')")
    for svc in services:
        await svc.start()

    classes = sorted({c for s in services for c in system.consumed_events(s)}, key=lambda c: c.TYPE)
    report = PoisonReport(services=[s.name for s in services], subjects=[c.subject(ns) for c in classes])
    rng = random.Random(seed)
    batch: list[tuple[str, object]] = []
    for i, cls in enumerate(classes):
        share = lambda n, i=i: n // len(classes) + (1 if i < n % len(classes) else 0)  # noqa: E731
        batch += [("poison", p) for p in fuzz.draw(fuzz.poison(cls, ns), share(poison))]
        batch += [("valid", e) for e in fuzz.draw(fuzz.events(cls), share(valid))]
    rng.shuffle(batch)
    if "poster" in by_name:
        batch.insert(len(batch) // 2, ("valid", blocked_item()))

    # stream -> subject -> the poison's sequences (a filtered durable reads one subject of its stream).
    poison_seqs: dict[str, dict[str, set[int]]] = {}
    queued_ids: set[str] = set()
    blocked_seq = None
    broker = make_broker(settings, service="chaos-producer")
    await broker.connect()
    publisher = EventPublisher(broker, settings, Clock(), "chaos-producer")
    t0 = time.monotonic()
    try:
        for kind, item in batch:
            if kind == "poison":
                ack = await js.publish(item.subject, item.data, headers=item.headers)  # type: ignore[attr-defined]
                report.poison_published += 1
                report.poison_kinds[item.kind] += 1  # type: ignore[attr-defined]
                poison_seqs.setdefault(ack.stream, {}).setdefault(item.subject, set()).add(  # type: ignore[attr-defined]
                    ack.seq)
            else:
                ack = await publisher.publish(item)  # type: ignore[arg-type]
                if ack.duplicate:
                    report.duplicates_dropped_by_stream += 1
                    continue
                report.valid_published += 1
                # The owner's own posts (the console's stream) enter the poster's queue too.
                if isinstance(item, ContentQueued | OwnerPostQueued):
                    queued_ids.add(item.content_id)
                    if item.content_id == BLOCKED_ID:
                        blocked_seq = (ack.stream, ack.seq)
    finally:
        await broker.stop()

    try:
        lag = await system.settle(js, dsn, services, settle_timeout)
        if lag:
            report.violations.append(f"consumers stuck (position, stream end): {lag}")
            for durable in lag:
                spec = next(sp for sv in services for sp in sv.consumer_specs() if sp.durable(ns) == durable)
                info = await js.consumer_info(spec.stream(ns), durable)
                report.violations.append(
                    f"{durable}: server ack floor {info.ack_floor.stream_seq}, delivered {info.delivered.stream_seq}, "
                    f"ack pending {info.num_ack_pending}, redelivered {info.num_redelivered}, "
                    f"pending {info.num_pending}, max_deliver {info.config.max_deliver}")
        report.seconds_to_settle = time.monotonic() - t0
        letters = await system.letters_by_consumer(js, ns)
        report.letters = sum(len(v) for v in letters.values())
        for svc in services:
            for spec in svc.consumer_specs():
                durable, stream = spec.durable(ns), spec.stream(ns)
                mine = letters.get(durable, [])
                subject = spec.filter_subject(ns)
                on_stream = {seq for subj, seqs in poison_seqs.get(stream, {}).items()
                             if spec.filter_event is None or subj == subject for seq in seqs}
                expected = set(on_stream)
                if blocked_seq and blocked_seq[0] == stream and svc.name == "poster":
                    expected.add(blocked_seq[1])
                got = {letter.stream_seq for letter in mine}
                if got - expected:
                    report.violations.append(f"{durable}: valid events dead-lettered at seqs "
                                             f"{sorted(got - expected)[:10]}"
                                             f": {[m.error for m in mine if m.stream_seq in got - expected][:3]}")
                if expected - got:
                    report.violations.append(
                        f"{durable}: poison without a dead letter at {sorted(expected - got)[:10]}")
                if any(not letter.error for letter in mine):
                    report.violations.append(f"{durable}: a dead letter without a reason")
                retried = [m for m in mine if m.stream_seq not in on_stream]
                if any(not m.error.startswith("failed ") for m in retried):
                    report.violations.append(f"{durable}: the blocked event's letter does not say it was retried")
        if "poster" in by_name:
            report.dlq_retry_reapplied = await _retry_blocked(settings, js, by_name["poster"], queued_ids, report)
    finally:
        for svc in services:
            await svc.stop()
    return report


async def _retry_blocked(settings: CommonSettings, js: JetStreamContext, poster, queued_ids: set[str],
                         report: PoisonReport) -> bool:
    dsn = settings.dsn
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "poster"})
    try:
        queued = {r["content_id"] for r in await conn.fetch("SELECT content_id FROM queue")}
        if queued != queued_ids - {BLOCKED_ID}:
            report.violations.append(f"poster.queue holds {len(queued)} items, {len(queued_ids) - 1} were queued "
                                     f"(missing {sorted(queued_ids - {BLOCKED_ID} - queued)[:5]})")
        # The operator drops the constraint that blocked the event, then retries its dead letter.
        await conn.execute("ALTER TABLE queue DROP CONSTRAINT chaos_block")
        letters = await system.letters_by_consumer(js, settings.namespace)
        mine = [m for v in letters.values() for m in v if m.service == "poster" and b"chaos-blocked" in m.payload]
        if len(mine) != 1:
            report.violations.append(f"expected one dead letter of the blocked item, found {len(mine)}")
            return False
        env = dict(os.environ, XBOT_NATS_URL=settings.nats_url, XBOT_DATABASE_URL=dsn,
                   XBOT_NAMESPACE=settings.namespace, PYTHONPATH=str(ROOT))
        proc = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "services.poster", "dlq-retry", str(mine[0].dlq_seq)],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            report.violations.append(f"dlq-retry failed: {proc.stderr[-500:]}")
            return False
        row = await conn.fetchval("SELECT count(*) FROM queue WHERE content_id = $1", BLOCKED_ID)
        left = [m for v in (await system.letters_by_consumer(js, settings.namespace)).values() for m in v
                if m.dlq_seq == mine[0].dlq_seq]
        if row != 1 or left:
            report.violations.append(f"dlq-retry: {row} queue rows for the blocked item, letter left: {bool(left)}")
            return False
        return True
    finally:
        await conn.close()
