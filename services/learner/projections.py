"""The learner's tables (schema ``learner``) and the projection that fills them; reads for the model job.

Consumed: the planner's ContentQueued (decision log), the poster's TweetPosted, the scraper's MetricsScraped and
FollowersSnapshotted, and the learner's own ModelUpdated (policy in force, version history). Handlers are pure
SQL of the event (no clock): a replay rebuilds the same rows. Every row keeps its event's stream sequence, and the
model is built in that order, so live (streams interleaved) and replay (stream after stream) give the same model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from libs.contracts.events import (
    ContentQueued,
    FollowersSnapshotted,
    MetricsScraped,
    ModelUpdated,
    TweetPosted,
)
from libs.runtime.service import Service
from libs.store.projection import Applied, Projection

PROJECTION = "learning"


def register(svc: Service) -> Projection:
    proj = svc.projection(PROJECTION)

    @proj.on_batch(ContentQueued)
    async def on_queued(conn: asyncpg.Connection, items: list[Applied]) -> None:
        # The first decision for a content id is the one taken; a re-queued id changes nothing.
        await conn.executemany(
            "INSERT INTO decisions (content_id, seq, kind, choice, policy_version, propensity, text, queued_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (content_id) DO NOTHING",
            [(e.content_id, i.seq, e.kind, e.choice.model_dump_json(), e.policy_version, e.propensity,
              "\n".join(e.parts), i.envelope.occurred_at) for i in items for e in [i.event]])  # type: ignore[attr-defined]

    @proj.on_batch(TweetPosted)
    async def on_posted(conn: asyncpg.Connection, items: list[Applied]) -> None:
        await conn.executemany(
            "INSERT INTO posts (content_id, tweet_ids, kind, posted_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (content_id) DO NOTHING",
            [(e.content_id, e.tweet_ids, e.kind, e.posted_at) for i in items for e in [i.event]])  # type: ignore[attr-defined]

    @proj.on_batch(MetricsScraped)
    async def on_metrics(conn: asyncpg.Connection, items: list[Applied]) -> None:
        await conn.executemany(
            "INSERT INTO metric_reads (tweet_id, checkpoint, content_id, seq, checkpoint_hours, likes, retweets, "
            "replies, views, bookmarks, observed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "ON CONFLICT (tweet_id, checkpoint) DO NOTHING",
            [(e.tweet_id, e.checkpoint, e.content_id, i.seq, e.checkpoint_hours, e.likes, e.retweets, e.replies,
              e.views, e.bookmarks, e.observed_at) for i in items for e in [i.event]])  # type: ignore[attr-defined]

    @proj.on_batch(FollowersSnapshotted)
    async def on_followers(conn: asyncpg.Connection, items: list[Applied]) -> None:
        await conn.executemany(
            "INSERT INTO follower_attribution (snapshot, content_id, tweet_id, seq, followers, observed_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            [(e.dedup_key(), a.content_id, a.tweet_id, i.seq, a.followers, e.observed_at)
             for i in items for e in [i.event] for a in e.attribution])  # type: ignore[attr-defined]

    @proj.on(ModelUpdated)
    async def on_model(conn: asyncpg.Connection, e: ModelUpdated, applied: Applied) -> None:
        await conn.execute(
            "INSERT INTO models (seq, version, parent_version, rollback_of, training_size, created_at, payload) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            applied.seq, e.version, e.parent_version, e.rollback_of, e.training_size, e.created_at,
            json.dumps(e.model_dump(mode="json")))

    return proj


# ---------------------------------------------------------------------- reads


@dataclass(frozen=True)
class Decision:
    content_id: str
    kind: str
    choice: dict
    propensity: float
    policy_version: str
    text: str


@dataclass(frozen=True)
class MetricRead:
    content_id: str
    checkpoint_hours: float
    counts: dict[str, int]


@dataclass(frozen=True)
class TrainingData:
    """Everything build_model learns from, in the order it is fed (stream order)."""

    decisions: tuple[Decision, ...]
    metrics: tuple[MetricRead, ...]
    followers: tuple[tuple[str, float], ...]  # (content_id, followers) per attribution row

    def digest(self) -> str:
        """A short fingerprint of the data: part of the version id, and how the job knows nothing changed."""
        blob = json.dumps([[d.__dict__ for d in self.decisions], [m.__dict__ for m in self.metrics],
                           self.followers], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:8]


async def training_data(conn: asyncpg.Connection) -> TrainingData:
    decisions = await conn.fetch(
        "SELECT content_id, kind, choice, propensity, policy_version, text FROM decisions "
        "WHERE kind <> 'reply' ORDER BY seq")
    # One read per item and checkpoint: the head tweet's when the post is known, else the first by tweet id.
    metrics = await conn.fetch(
        "SELECT DISTINCT ON (m.content_id, m.checkpoint_hours) m.content_id, m.checkpoint_hours, m.likes, "
        "m.retweets, m.replies, m.views, m.bookmarks FROM metric_reads m LEFT JOIN posts p USING (content_id) "
        "ORDER BY m.content_id, m.checkpoint_hours, (m.tweet_id = p.tweet_ids[1]) DESC NULLS LAST, m.tweet_id")
    followers = await conn.fetch(
        "SELECT content_id, followers FROM follower_attribution ORDER BY seq, content_id, tweet_id")
    return TrainingData(
        decisions=tuple(Decision(r["content_id"], r["kind"], json.loads(r["choice"]), r["propensity"],
                                 r["policy_version"], r["text"]) for r in decisions),
        metrics=tuple(MetricRead(r["content_id"], r["checkpoint_hours"],
                                 {k: r[k] for k in ("likes", "retweets", "replies", "views", "bookmarks")})
                      for r in metrics),
        followers=tuple((r["content_id"], r["followers"]) for r in followers),
    )


@dataclass(frozen=True)
class PublishedModel:
    seq: int
    version: str
    parent_version: str | None
    rollback_of: str | None
    training_size: int
    created_at: datetime
    payload: dict


async def published_models(conn: asyncpg.Connection) -> list[PublishedModel]:
    """Every ModelUpdated in stream order (the last is the policy in force)."""
    rows = await conn.fetch(
        "SELECT seq, version, parent_version, rollback_of, training_size, created_at, payload FROM models "
        "ORDER BY seq")
    return [PublishedModel(r["seq"], r["version"], r["parent_version"], r["rollback_of"], r["training_size"],
                           r["created_at"], json.loads(r["payload"])) for r in rows]


async def own_stream_lag(conn: asyncpg.Connection, js, projection: Projection, namespace: str) -> int:
    """How many of our own ModelUpdated the projection has not applied yet (0 = the models table is current)."""
    spec = next(s for s in projection.consumers() if s.producer == ModelUpdated.PRODUCER)
    stream = spec.stream(namespace)
    last = (await js.stream_info(stream)).state.last_seq
    pos = await conn.fetchval(
        "SELECT stream_seq FROM tracking WHERE consumer = $1 AND stream = $2", spec.durable(namespace), stream) or 0
    return max(0, last - pos)
