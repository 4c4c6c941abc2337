import asyncio

import pytest

from libs.contracts.gateway import GatewayError
from libs.core.clock import Clock
from services.browser_gateway.arbiter import Arbiter

FAST = Clock(scale=1000.0)  # 60 simulated seconds of queue timeout pass in 60 ms


async def hold(arbiter: Arbiter, priority: int, tag: str, release: asyncio.Event, started: list[str]) -> None:
    async with arbiter.lease(priority, tag):
        started.append(tag)
        await release.wait()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_p0_takes_the_reserved_slot_while_background_work_waits() -> None:
    arbiter = Arbiter(slots=3, clock=FAST, queue_timeouts={2: 10_000})
    release, started = asyncio.Event(), []
    tasks = [asyncio.create_task(hold(arbiter, 2, f"p2-{i}", release, started)) for i in range(50)]
    await settle()
    assert started == ["p2-0", "p2-1"]  # two slots for background work, the third kept for P0
    assert arbiter.depth(2) == 48
    tasks.append(asyncio.create_task(hold(arbiter, 0, "p0", release, started)))
    await settle()
    assert started[-1] == "p0" and len(started) == 3
    release.set()
    await asyncio.gather(*tasks)
    assert started[3:] == [f"p2-{i}" for i in range(2, 50)]  # FIFO within the class


async def test_strict_priority_then_fifo_within_class() -> None:
    arbiter = Arbiter(slots=1, clock=FAST, queue_timeouts={0: 10_000, 1: 10_000, 2: 10_000})
    gate, started = asyncio.Event(), []
    first = asyncio.create_task(hold(arbiter, 2, "running", gate, started))
    await settle()
    go = asyncio.Event()
    go.set()
    order = [(2, "a2"), (1, "b1"), (0, "c0"), (1, "d1"), (0, "e0"), (2, "f2")]
    waiting = [asyncio.create_task(hold(arbiter, p, tag, go, started)) for p, tag in order]
    await settle()
    gate.set()
    await asyncio.gather(first, *waiting)
    assert started == ["running", "c0", "e0", "b1", "d1", "a2", "f2"]


async def test_queue_timeout_per_class_gives_timeout_error() -> None:
    arbiter = Arbiter(slots=2, clock=FAST, queue_timeouts={1: 30.0, 2: 30.0})
    release, started = asyncio.Event(), []
    holder = asyncio.create_task(hold(arbiter, 1, "holder", release, started))
    await settle()
    with pytest.raises(GatewayError) as err:
        await arbiter.acquire(1)
    assert err.value.code == "timeout" and err.value.retryable
    assert arbiter.depth(1) == 0
    # The timed-out waiter left no trace: the slot still goes to the next one once released.
    release.set()
    await holder
    await arbiter.acquire(1)
    assert arbiter.in_use == 1


async def test_cancelled_waiter_does_not_leak_a_slot() -> None:
    arbiter = Arbiter(slots=1, clock=FAST, queue_timeouts={2: 10_000})
    await arbiter.acquire(2)
    waiter = asyncio.create_task(arbiter.acquire(2))
    await settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    arbiter.release()
    assert arbiter.in_use == 0
    await asyncio.wait_for(arbiter.acquire(2), 1)


def test_single_slot_reserves_nothing() -> None:
    assert Arbiter(slots=1, clock=FAST).reserved == 0
    assert Arbiter(slots=3, clock=FAST).reserved == 1
