"""What X did to our tweets without us, as the scraper found it: one of them gone from X (TweetGone: deleted on X
itself, or removed by X) or under a Community Note (CommunityNoteShown). The planner, the learner and the console
each keep the same rows in a table of their own schema, ``x_marks`` (tweet_id, mark, content_id, noticed_at), mark
being the event's ``XMark.MARK``, and so do the poster and the harvester for TweetGone alone (``keep_gone``); this is
the one way they are written."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from libs.contracts.events import TweetGone, XMark
from libs.store.projection import Applied, Projection


async def record_x_marks(conn: asyncpg.Connection, events: Sequence[XMark]) -> None:
    await conn.executemany(
        "INSERT INTO x_marks (tweet_id, mark, content_id, noticed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [(e.tweet_id, e.MARK, e.content_id, e.noticed_at) for e in events])


def keep_gone(projection: Projection) -> None:
    """``projection`` (filtered: a durable on the scraper's TweetGone alone) keeps our tweets gone from X in
    ``x_marks``, for a service that reads nothing else of the scraper's stream."""

    @projection.on_batch(TweetGone)
    async def on_gone(conn: asyncpg.Connection, items: list[Applied[TweetGone]]) -> None:
        await record_x_marks(conn, [i.event for i in items])
