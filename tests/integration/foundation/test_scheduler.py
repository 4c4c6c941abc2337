"""Periodic jobs with a JetStream KV lease: two replicas, one run per interval."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from libs.bus.streams import kv_bucket
from libs.core.clock import Clock
from libs.runtime.scheduler import Job, Lease, Scheduler


async def test_two_schedulers_holding_the_lease_run_the_job_once_per_interval(settings, js):
    kv = await js.key_value(kv_bucket(settings.namespace, "leases"))
    clock = Clock(scale=60.0)  # a simulated minute per real second
    runs: list[str] = []
    in_flight = 0
    overlaps = 0

    def make(replica: str) -> Scheduler:
        async def work() -> None:
            nonlocal in_flight, overlaps
            in_flight += 1
            overlaps += in_flight > 1
            runs.append(replica)
            await asyncio.sleep(0.05)
            in_flight -= 1

        s = Scheduler(service="svc", clock=clock, lease=Lease(kv))
        s.add(Job("tick", interval=timedelta(seconds=30), run=work, jitter=0.0))  # 0.5 real s
        return s

    a, b = make("a"), make("b")
    a.start()
    b.start()
    await asyncio.sleep(3.2)
    await a.stop()
    await b.stop()
    assert overlaps == 0
    # ~6 intervals in 3.2 s: one run each, not two.
    assert 5 <= len(runs) <= 8, runs
    assert len(set(runs)) == 1  # the holder keeps the lease while it lives


async def test_a_crashed_holder_loses_the_lease_to_the_other_replica(settings, js):
    kv = await js.key_value(kv_bucket(settings.namespace, "leases"))
    first, second = Lease(kv), Lease(kv)
    assert await first.acquire("svc.job", ttl_s=0.5)
    assert not await second.acquire("svc.job", ttl_s=0.5)
    await asyncio.sleep(0.6)  # the first holder stopped renewing
    assert await second.acquire("svc.job", ttl_s=0.5)
    assert not await first.acquire("svc.job", ttl_s=0.5)


async def test_a_released_lease_is_taken_at_once(settings, js):
    kv = await js.key_value(kv_bucket(settings.namespace, "leases"))
    first, second = Lease(kv), Lease(kv)
    assert await first.acquire("svc.job", ttl_s=60)
    assert not await second.acquire("svc.job", ttl_s=60)
    await second.release("svc.job")  # not the holder: no effect
    assert not await second.acquire("svc.job", ttl_s=60)
    await first.release("svc.job")
    assert await second.acquire("svc.job", ttl_s=60)
