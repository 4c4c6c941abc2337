"""`xbot events tail`: the last N stored messages of every stream a subject filter touches, then new ones.

A JetStream subscription binds to a single stream, so following ``<ns>.>`` takes one ordered consumer per
stream (each producer's and the dead-letter stream) whose subjects overlap the filter.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from libs.bus.streams import DLQ, producer_subjects, stream_name
from libs.contracts.registry import PRODUCERS


def subjects_overlap(a: str, b: str) -> bool:
    """Whether some subject matches both NATS subject patterns (``*`` one token, ``>`` one or more)."""
    ta, tb = a.split("."), b.split(".")
    for x, y in zip(ta, tb):
        if x == ">" or y == ">":
            return True
        if x != y and "*" not in (x, y):
            return False
    return len(ta) == len(tb)


def format_event(subject: str, data: bytes) -> str:
    try:
        doc = json.loads(data)
    except ValueError:
        return f"{subject} <{len(data)} bytes, not JSON>"
    if isinstance(doc, dict) and "payload" in doc:  # an event envelope
        return f"{doc.get('occurred_at')} {subject} {json.dumps(doc['payload'])[:200]}"
    return f"{subject} {json.dumps(doc)[:200]}"  # a dead letter or anything else a stream holds


async def tail_events(js: JetStreamContext, namespace: str, output: Callable[[str], None], stop: asyncio.Event,
                      *, subject: str | None = None, last: int = 10) -> int:
    """Print the last ``last`` messages of each matching stream, then new ones until ``stop`` is set.

    Returns how many streams were followed (0: nothing matches the filter, returns at once)."""
    filt = subject or f"{namespace}.>"

    async def show(msg: Msg) -> None:
        output(format_event(msg.subject, msg.data))

    subs = []
    try:
        for producer in (*PRODUCERS, DLQ):
            if not subjects_overlap(filt, producer_subjects(namespace, producer)):
                continue
            sname = stream_name(namespace, producer)
            try:
                state = (await js.stream_info(sname)).state
            except NotFoundError:
                continue  # not provisioned
            # A fixed start sequence rather than DeliverPolicy.NEW: nothing published between reading the
            # state and subscribing is missed. The last N are counted in the stream, before the filter.
            start = max(state.first_seq, state.last_seq - max(last, 0) + 1, 1)
            config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start)
            subs.append(await js.subscribe(filt, stream=sname, ordered_consumer=True, cb=show, config=config))
        if subs:
            await stop.wait()
    finally:
        for sub in subs:
            await sub.unsubscribe()
    return len(subs)
