"""What X did to our tweets without us, as the scraper found it: one of them gone from X (TweetGone: deleted on X
itself, or removed by X) or under a Community Note (CommunityNoteShown). The planner, the learner and the console
each keep the same rows in a table of their own schema, ``x_marks`` (tweet_id, mark, content_id, noticed_at), mark
being the event's ``XMark.MARK``; this is the one way they are written."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from libs.contracts.events import XMark


async def record_x_marks(conn: asyncpg.Connection, events: Sequence[XMark]) -> None:
    await conn.executemany(
        "INSERT INTO x_marks (tweet_id, mark, content_id, noticed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [(e.tweet_id, e.MARK, e.content_id, e.noticed_at) for e in events])
