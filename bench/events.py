"""``xbot bench events``: end-to-end throughput of a real projection against a hand-written reference.

Publishes N TweetPosted events (456 bytes each: the smallest real event, most of it the envelope's ids and
timestamps) into a fresh namespace, then measures, in the same run and on the same servers:
- **xbot**: the projection runner with its own pull loop on the provisioned durable (fetch a batch → decode and
  validate the envelope → apply → tracking row → one transaction per batch → ack), i.e. exactly what every
  service runs;
- **reference**: a minimal hand-written nats-py → asyncpg loop (fetch a batch, one transaction with an upsert and
  a tracking row, ack), with no validation at all;
- **replay**: ``replay_service`` over the same events into fresh tables.
The order of the two consumers alternates over rounds (these machines are noisy); each round's ratio compares
the two runs of that round, and the median and the spread (lowest, highest) of the ratios are reported against
the targets: median >= 0.95, every round >= 0.9.
Writes bench/results/events.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from libs.bus.broker import jetstream
from libs.bus.provision import provision_streams, remove_namespace
from libs.bus.streams import ConsumerSpec, stream_name
from libs.contracts.base import Envelope
from libs.contracts.registry import TYPE_HEADER, VERSION_HEADER
from libs.contracts.events import TweetPosted
from ops.infra import ensure_servers
from libs.bus.nats import connect
from libs.runtime.service import Service
from libs.core.settings import CommonSettings
from libs.store.projection import Applied
from libs.store.replay import replay_service

RESULTS = Path(__file__).parent / "results" / "events.json"
MIGRATIONS = Path(__file__).parent / "events_migrations"
BATCH = 256
TARGET_MEDIAN, TARGET_ROUND = 0.95, 0.9


def build(settings: CommonSettings) -> Service:
    svc = Service("benchproj", settings, migrations=MIGRATIONS, batch_size=BATCH)
    proj = svc.projection("posted")

    @proj.on_batch(TweetPosted)
    async def on_posted(conn, items: list[Applied]) -> None:
        await conn.executemany(
            "INSERT INTO posted (content_id, tweet_id, seq) VALUES ($1, $2, $3) "
            "ON CONFLICT (content_id) DO UPDATE SET tweet_id = EXCLUDED.tweet_id, seq = EXCLUDED.seq",
            [(i.event.content_id, i.event.tweet_ids[0], i.seq) for i in items])

    return svc


def make_events(n: int) -> list[tuple[str, bytes, dict]]:
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        evt = TweetPosted(content_id=f"c{i}", kind="post", tweet_ids=[str(10**15 + i)],
                          url=f"http://x/s/{i}", posted_at=now)
        env = Envelope.wrap(evt, occurred_at=now)
        # The headers EventPublisher sets: the consumer parses and validates in one pass with them.
        out.append((evt.subject, env.model_dump_json().encode(),
                    {"Nats-Msg-Id": env.event_id, TYPE_HEADER: evt.TYPE, VERSION_HEADER: str(evt.VERSION)}))
    return out


async def publish_all(settings: CommonSettings, n: int) -> tuple[float, int]:
    nc = await connect(settings, name="bench-publisher")
    js = nc.jetstream(publish_async_max_pending=4000)
    events = make_events(n)
    size = sum(len(e[1]) for e in events) // n
    ns = settings.namespace
    stream = stream_name(ns, "poster")
    t0 = time.perf_counter()
    futures = []
    for subject_fn, body, headers in events:
        futures.append(await js.publish_async(subject_fn(ns), body, stream=stream, headers=headers))
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - t0
    await nc.close()
    return n / elapsed, size


async def applied_rate(pool: asyncpg.Pool, n: int) -> float:
    """Events per second from the first applied batch to the last, as the tracking table shows them (the
    service's start-up, migrations and connections are set-up, as the reference's are)."""
    first: tuple[int, float] | None = None
    while True:
        done = await pool.fetchval("SELECT coalesce(max(stream_seq), 0) FROM tracking")
        now = time.perf_counter()
        if done and first is None:
            first = (done, now)
        if done >= n:
            return (n - first[0]) / (now - first[1])
        await asyncio.sleep(0.02)


async def run_xbot(settings: CommonSettings, n: int) -> float:
    async with _admin(settings) as conn:
        await conn.execute("DROP SCHEMA IF EXISTS benchproj CASCADE")
    svc = build(settings)
    await svc.broker.connect()
    js = jetstream(svc.broker)
    for spec in svc.consumer_specs():  # start every round from sequence 1
        try:
            await js.delete_consumer(spec.stream(settings.namespace), spec.durable(settings.namespace))
        except Exception:  # noqa: BLE001 - first round
            pass
    await svc.provision()
    await svc.migrate()
    started = asyncio.create_task(svc.start())
    while svc.pool is None:
        await asyncio.sleep(0.01)
    rate = await applied_rate(svc.pool, n)
    await started
    await svc.stop()
    return rate


async def run_reference(settings: CommonSettings, n: int) -> float:
    """The hand-written loop: the least a correct exactly-once consumer must do."""
    ns = settings.namespace
    async with _admin(settings) as conn:
        await conn.execute("DROP SCHEMA IF EXISTS benchref CASCADE; CREATE SCHEMA benchref; "
                           "CREATE TABLE benchref.posted (content_id text PRIMARY KEY, tweet_id text, seq bigint);"
                           "CREATE TABLE benchref.tracking (consumer text, stream text, stream_seq bigint, "
                           "PRIMARY KEY (consumer, stream))")
    pool = await asyncpg.create_pool(settings.dsn, min_size=1, max_size=2,
                                     server_settings={"search_path": "benchref"})
    nc = await connect(settings, name="bench-reference")
    js = nc.jetstream()
    spec = ConsumerSpec(service="benchref", name="posted", producer="poster")
    await js.add_consumer(spec.stream(ns), spec.config(ns))
    sub = await js.pull_subscribe(spec.filter_subject(ns), durable=spec.durable(ns), stream=spec.stream(ns))
    t0 = None
    done = 0
    while done < n:
        try:
            msgs = await sub.fetch(BATCH, timeout=1)
        except TimeoutError:
            continue
        if t0 is None:  # like the xbot figure: from the first batch in hand
            t0 = time.perf_counter()
            first = len(msgs)
        rows = []
        for m in msgs:
            payload = json.loads(m.data)["payload"]
            rows.append((payload["content_id"], payload["tweet_ids"][0], m.metadata.sequence.stream))
        async with pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                "INSERT INTO posted VALUES ($1, $2, $3) ON CONFLICT (content_id) DO UPDATE "
                "SET tweet_id = EXCLUDED.tweet_id, seq = EXCLUDED.seq", rows)
            await conn.execute(
                "INSERT INTO tracking VALUES ($1, $2, $3) ON CONFLICT (consumer, stream) "
                "DO UPDATE SET stream_seq = EXCLUDED.stream_seq", spec.durable(ns), spec.stream(ns), rows[-1][2])
        for m in msgs:
            await m.ack()
        done += len(msgs)
    elapsed = time.perf_counter() - t0
    await js.delete_consumer(spec.stream(ns), spec.durable(ns))
    await nc.close()
    await pool.close()
    return (n - first) / elapsed


class _admin:
    def __init__(self, settings: CommonSettings) -> None:
        self.dsn = settings.dsn

    async def __aenter__(self) -> asyncpg.Connection:
        self.conn = await asyncpg.connect(self.dsn)
        return self.conn

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.close()


async def main(n: int, rounds: int) -> dict:
    env = ensure_servers()
    ns = "bench" + uuid.uuid4().hex[:6]
    settings = CommonSettings(nats_url=env["XBOT_NATS_URL"], database_url=env["XBOT_DATABASE_URL"], namespace=ns)
    nc = await connect(settings, name="bench-setup")
    await provision_streams(nc.jetstream(), ns)
    try:
        publish_rate, size = await publish_all(settings, n)
        xbot_rates, ref_rates = [], []
        for r in range(rounds):
            # Alternate who goes first: the second one runs on a warmer page cache.
            order = [("xbot", run_xbot), ("reference", run_reference)]
            for label, fn in (order if r % 2 == 0 else order[::-1]):
                rate = await fn(settings, n)
                (xbot_rates if label == "xbot" else ref_rates).append(rate)
                print(f"round {r + 1}: {label:<9} {rate:>9.0f} events/s", flush=True)
        svc = build(settings)
        await svc.broker.connect()
        replay = await replay_service(svc, progress=None)
        await svc.broker.stop()
        if svc.pool:
            await svc.pool.close()
    finally:
        await remove_namespace(nc.jetstream(), ns)
        await nc.close()
        async with _admin(settings) as conn:
            await conn.execute("DROP SCHEMA IF EXISTS benchproj CASCADE; DROP SCHEMA IF EXISTS benchref CASCADE")
    xbot, ref = statistics.median(xbot_rates), statistics.median(ref_rates)
    ratios = [x / r for x, r in zip(xbot_rates, ref_rates, strict=True)]
    ratio = statistics.median(ratios)
    result = {
        "events": n, "event_bytes": size, "rounds": rounds, "batch": BATCH,
        "publish_rate": round(publish_rate, 1),
        "xbot_rate": round(xbot, 1), "reference_rate": round(ref, 1),
        "ratio": round(ratio, 3), "ratios": [round(x, 3) for x in ratios],
        "ratio_spread": [round(min(ratios), 3), round(max(ratios), 3)],
        "target_median_ratio": TARGET_MEDIAN, "target_round_ratio": TARGET_ROUND,
        "met": ratio >= TARGET_MEDIAN and min(ratios) >= TARGET_ROUND,
        "xbot_rates": [round(x, 1) for x in xbot_rates], "reference_rates": [round(x, 1) for x in ref_rates],
        "replay_rate": replay["rate"], "replay_seconds": replay["seconds"],
        "machine": {"cpus": os.cpu_count()}, "measured_at": datetime.now(UTC).isoformat(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(f"{'':<28}{'events/s':>12}")
    print(f"{'publish (async, PubAck)':<28}{publish_rate:>12.0f}")
    print(f"{'xbot projection (median)':<28}{xbot:>12.0f}")
    print(f"{'hand-written reference':<28}{ref:>12.0f}")
    print(f"{'ratio, median of rounds':<28}{ratio:>12.3f}  (target >= {TARGET_MEDIAN})")
    print(f"{'ratio, lowest / highest':<28}{min(ratios):>12.3f} / {max(ratios):.3f}  (every round >= {TARGET_ROUND})")
    print(f"{'replay':<28}{replay['rate']:>12.0f}")
    print(f"wrote {RESULTS}")
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    asyncio.run(main(args.events, args.rounds))
