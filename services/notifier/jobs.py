"""The notifier's worker: the notify job (drafts waiting, in batches; yesterday's digest, once a simulated day;
then every pending notice to every channel, once, within the rules of notices.decide), the watch job (dead letters
and readiness, where no Alertmanager does it) and Alertmanager's webhook on the side port.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web

from libs.bus.broker import jetstream
from libs.bus.dlq import DeadLetters
from libs.bus.streams import kv_bucket
from libs.core.logging import mask, redact
from libs.runtime.context import JobContext, Worker
from libs.runtime.scheduler import Job
from services.notifier import metrics
from services.notifier import projections as db
from services.notifier.channels import Channel, ChannelFailed, open_channels
from services.notifier.notices import (
    KINDS,
    BadAlert,
    Notice,
    Verdict,
    alert_notice,
    approval_batch,
    approvals_notice,
    dead_letters_notice,
    decide,
    digest_due,
    digest_notice,
    not_ready_notice,
    retry_delay,
    scrub,
    with_repeats,
)
from services.notifier.settings import NotifierSettings, channel_urls

logger = logging.getLogger("xbot.notifier")


class NotifierWorker(Worker):
    status_block = "notifications"

    def __init__(self, ctx: JobContext[NotifierSettings], *, channels: Sequence[Channel] | None = None,
                 broker: Any = None) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.clock = ctx.clock
        self.pool = ctx.pool
        self.channels = list(channels) if channels is not None else open_channels(
            channel_urls(self.settings.notify_urls), timeout_s=self.settings.notify_send_timeout_s_real,
            spacing_s=self.settings.notify_spacing_s_real)
        self.broker = broker
        # Exported at 0 from the start: Prometheus's increase() sees no rise in a series whose first sample is
        # already 1, so the first failure of all would not fire XbotNoticesFailed or XbotNotifyChannelFailing.
        for kind in KINDS:
            metrics.notices.labels(kind, "failed")
        for channel in self.channels:
            metrics.channel_failures.labels(channel.name)
        self.last_run: dict[str, Any] = {}
        if self.settings.notify_webhook_token is not None:
            redact(self.settings.notify_webhook_token.get_secret_value())

    def jobs(self) -> Sequence[Job]:
        s = self.settings
        # One job, one lease: the notices it makes itself (drafts batched, the digest) go out in the same run.
        jobs = [Job("notify", s.notify_interval, self.notify, jitter=0.05)]
        if s.notify_watch and self.broker is not None:
            jobs.append(Job("watch", s.notify_watch_interval, self.watch))
        return jobs

    async def start(self) -> None:
        async with self.pool.acquire() as conn:
            # The first start: no digest of the days before it.
            await conn.execute(
                "INSERT INTO notifier_state (key, value) VALUES ('first_started', $1::jsonb) ON CONFLICT DO NOTHING",
                json.dumps(self.clock.now().isoformat()))
        if not self.channels:
            logger.warning("no channel configured (XBOT_NOTIFY_URLS): notices are kept but nothing is sent")

    async def notify(self) -> dict[str, int]:
        await self.batch_approvals()
        await self.digest()
        return await self.deliver()

    # ------------------------------------------------------------------ delivery

    async def deliver(self) -> dict[str, int]:
        now = self.clock.now()
        counts: dict[str, int] = {}
        async with self.pool.acquire() as conn:
            pending = await db.pending_notices(conn)
        for notice in pending:
            outcome = await self._deliver_one(notice, now)
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome != "waiting":  # a notice resting between tries: nothing happened to it this run
                metrics.notices.labels(notice.kind, outcome).inc()
        self.last_run["deliver"] = {"at": now.isoformat(), **counts}
        return counts

    async def _deliver_one(self, notice: Notice, now: datetime) -> str:
        async with self.pool.acquire() as conn:
            repeat = await conn.fetchrow("SELECT last_sent_at, held_back, held_since FROM repeats WHERE key = $1",
                                         notice.key)
            tried = {r["channel"]: r for r in await conn.fetch(
                "SELECT channel, delivered_at, attempts, next_try_at FROM deliveries WHERE notice_id = $1",
                notice.id)}
            # A notice already on its way (some channel tried) finishes its way: it was judged when it started.
            verdict = Verdict(True, "send") if tried else decide(
                notice, now=now, off=self.settings.notify_off, max_age=self.settings.notify_max_age,
                last_sent=repeat["last_sent_at"] if repeat else None, repeat_after=self.settings.notify_repeat_after)
            if not verdict.send or not self.channels:
                outcome = verdict.outcome if verdict.send is False else "unrouted"
                async with conn.transaction():
                    await self._handled(conn, notice, outcome, now)
                    if outcome == "repeat":
                        await conn.execute(
                            "UPDATE repeats SET held_back = held_back + 1, held_since = coalesce(held_since, $2)"
                            " WHERE key = $1", notice.key, now)
                return outcome
            done = {channel for channel, r in tried.items() if r["delivered_at"] is not None}
        attempts = {channel: r["attempts"] for channel, r in tried.items()}
        limit = self.settings.notify_max_attempts
        # Channels still to reach, and among them those whose rest after a failure is over (retry_delay).
        open_ = [c for c in self.channels if c.name not in done and attempts.get(c.name, 0) < limit]
        due = [c for c in open_ if c.name not in tried or tried[c.name]["next_try_at"] is None
               or tried[c.name]["next_try_at"] <= now]
        if open_ and not due:
            return "waiting"
        title = scrub(f"[xbot] {notice.title}", mask)
        body = scrub(with_repeats(notice.body, repeat["held_back"] if repeat else 0,
                                  repeat["held_since"] if repeat else None), mask)
        sent = []
        for channel in due:
            try:
                await channel.send(title=title, body=body, severity=notice.severity)
            except ChannelFailed as err:
                attempts[channel.name] = attempts.get(channel.name, 0) + 1
                metrics.channel_failures.labels(channel.name).inc()
                rest = retry_delay(attempts[channel.name], first=self.settings.notify_retry_first,
                                   longest=self.settings.notify_retry_longest)
                await self.pool.execute(
                    "INSERT INTO deliveries AS d (notice_id, channel, attempts, last_error, next_try_at)"
                    " VALUES ($1, $2, 1, $3, $4) ON CONFLICT (notice_id, channel) DO UPDATE"
                    " SET attempts = d.attempts + 1, last_error = $3, next_try_at = $4",
                    notice.id, channel.name, scrub(str(err), mask), now + rest)
                logger.warning("notice %s not delivered to %s: %s", notice.id, channel.name, scrub(str(err), mask))
                continue
            # Recorded at once: a crash after this send and before the next channel's resends to none twice.
            await self.pool.execute(
                "INSERT INTO deliveries AS d (notice_id, channel, delivered_at, attempts) VALUES ($1, $2, $3, 1)"
                " ON CONFLICT (notice_id, channel) DO UPDATE SET delivered_at = $3, attempts = d.attempts + 1",
                notice.id, channel.name, now)
            sent.append(channel.name)
        async with self.pool.acquire() as conn, conn.transaction():
            if sent and not done:
                # The news went out (to one channel at least): its repeats are held back from now on.
                await conn.execute(
                    "INSERT INTO repeats (key, last_sent_at, held_back, held_since) VALUES ($1, $2, 0, NULL)"
                    " ON CONFLICT (key) DO UPDATE SET last_sent_at = $2, held_back = 0, held_since = NULL",
                    notice.key, now)
            undelivered = [c.name for c in self.channels if c.name not in done and c.name not in sent]
            if any(attempts.get(name, 0) < limit for name in undelivered):
                return "retry"
            # Every channel took it, or the ones left failed it notify_max_attempts times: given up, counted
            # (xbot_notifier_notices_total{outcome="failed"}), and told by XbotNoticesFailed.
            outcome = "failed" if undelivered else "sent"
            await self._handled(conn, notice, outcome, now)
        logger.info("notice %s (%s) %s", notice.id, notice.kind, outcome)
        return outcome

    @staticmethod
    async def _handled(conn, notice: Notice, outcome: str, now: datetime) -> None:
        await conn.execute("INSERT INTO handled (notice_id, outcome, handled_at) VALUES ($1, $2, $3)"
                           " ON CONFLICT DO NOTHING", notice.id, outcome, now)

    # ------------------------------------------------------------------ what the notifier makes itself

    async def batch_approvals(self) -> int:
        now = self.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            batch = approval_batch(await db.waiting_approvals(conn), now=now,
                                   window=self.settings.notify_approval_batch)
            if not batch:
                return 0
            await db.add_outgoing(conn, approvals_notice(batch, at=now))
            await conn.executemany("INSERT INTO approvals_told (content_id) VALUES ($1) ON CONFLICT DO NOTHING",
                                   [(w.content_id,) for w in batch])
        return len(batch)

    async def digest(self) -> str | None:
        now = self.clock.now()
        day = digest_due(now, hour=self.settings.notify_digest_hour)
        if day is None:
            return None
        async with self.pool.acquire() as conn, conn.transaction():
            first = await conn.fetchval("SELECT value #>> '{}' FROM notifier_state WHERE key = 'first_started'")
            if first is not None and datetime.fromisoformat(first).date() > day:
                return None  # the notifier did not run that day
            if await conn.fetchval("SELECT 1 FROM outgoing WHERE id = $1", f"digest:{day.isoformat()}"):
                return None
            await db.add_outgoing(conn, digest_notice(await db.day_figures(conn, day), at=now))
        self.last_run["digest"] = day.isoformat()
        return day.isoformat()

    async def watch(self) -> None:
        """Dead letters growing and services not ready, told by the notifier itself (no Alertmanager here)."""
        now = self.clock.now()
        js = jetstream(self.broker)
        try:
            total = await DeadLetters(js, self.settings.namespace).count()
        except Exception as err:  # noqa: BLE001 - e.g. a NATS user without the right to the DLQ's stream info
            total = None
            logger.warning("cannot count the dead letters (%s): that part of the watch is skipped; route "
                           "Prometheus's XbotDeadLettersGrowing through Alertmanager instead", err)
        if total is not None:
            await self._watch_dead_letters(total, now)
        for service, detail in await self._not_ready(js):
            async with self.pool.acquire() as conn:
                await db.add_outgoing(conn, not_ready_notice(service, detail, at=now))

    async def _watch_dead_letters(self, total: int, now: datetime) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            seen = await conn.fetchval("SELECT (value #>> '{}')::int FROM notifier_state WHERE key = 'dead_letters'")
            await conn.execute("INSERT INTO notifier_state (key, value) VALUES ('dead_letters', $1::jsonb)"
                               " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", json.dumps(total))
            if seen is not None and total > seen:
                await db.add_outgoing(conn, dead_letters_notice(total - seen, total, at=now))

    async def _not_ready(self, js) -> list[tuple[str, str]]:
        try:
            kv = await js.key_value(kv_bucket(self.settings.namespace, "services"))
            keys = await kv.keys()
        except Exception:  # noqa: BLE001 - an empty bucket raises in nats-py; nothing registered, nothing to say
            return []
        out = []
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            for key in keys:
                entry = await kv.get(key)
                info = json.loads(entry.value or b"{}")
                service = key.removeprefix("svc.")
                try:
                    async with http.get(f"{info['url']}/ready") as resp:
                        if resp.status != 200:
                            body = await resp.json(content_type=None)
                            failing = {k: v for k, v in (body.get("checks") or {}).items() if v != "ok"}
                            out.append((service, ", ".join(f"{k}: {v}" for k, v in failing.items()) or "not ready"))
                except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as err:
                    # A service that stopped leaves its entry behind: unreachable is told like not ready.
                    out.append((service, f"side port unreachable ({type(err).__name__})"))
        return out

    # ------------------------------------------------------------------ Alertmanager's webhook

    async def alertmanager(self, request: web.Request) -> web.Response:
        token = self.settings.notify_webhook_token
        if token is not None and request.headers.get("Authorization") != f"Bearer {token.get_secret_value()}":
            return web.json_response({"error": "bearer token required"}, status=401)
        try:
            notice = alert_notice(await request.json(), received_at=self.clock.now())
        except (ValueError, BadAlert, AttributeError) as err:
            return web.json_response({"error": f"not an Alertmanager notification: {err}"}, status=400)
        async with self.pool.acquire() as conn:
            added = await db.add_outgoing(conn, notice)
        metrics.alerts_received.labels(notice.kind).inc()
        return web.json_response({"notice": notice.id, "new": added})

    # ------------------------------------------------------------------ status

    async def status(self) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            outcomes = {r["outcome"]: r["n"] for r in await conn.fetch(
                "SELECT outcome, count(*) AS n FROM handled GROUP BY outcome")}
            pending = await conn.fetchval(
                "SELECT count(*) FROM (SELECT id FROM notices UNION ALL SELECT id FROM outgoing) n"
                " WHERE NOT EXISTS (SELECT 1 FROM handled h WHERE h.notice_id = n.id)")
        return {"channels": [c.name for c in self.channels], "off": sorted(self.settings.notify_off),
                "pending": pending, "handled": outcomes, "last": self.last_run}
