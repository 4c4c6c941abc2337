"""The learner's tables (schema ``learner``) and the projection that fills them; reads for the model job.

Consumed: the planner's ContentQueued (decision log), the poster's TweetPosted, the scraper's MetricsScraped,
FollowersSnapshotted, PastPostsRead (the account's posts from before xbot), TweetGone and CommunityNoteShown (what
X did to our tweets without us: ``x_marks``), the console's owner events (rollbacks asked for, drafts rejected,
posts deleted from X), and the learner's own ModelUpdated (policy in force, version history). Handlers are pure
SQL of the event (no clock): a replay rebuilds the same rows. Every row keeps its event's stream sequence, and the
model is built in that order, so live (streams interleaved) and replay (stream after stream) give the same model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from libs.contracts.events import (
    CommunityNoteShown,
    ContentQueued,
    ContentRejectedByOwner,
    ModelRollbackRequested,
    FollowersSnapshotted,
    FormatInsights,
    MetricsScraped,
    ModelUpdated,
    PastPostsRead,
    TweetDeleted,
    TweetGone,
    XMark,
    TweetPosted,
)
from libs.runtime.service import Service
from libs.store.projection import Applied, Projection
from libs.store.x_marks import record_x_marks
from services.learner.history import PastPost
from services.learner.rewards import FOLLOWER_CREDIT_HOURS

PROJECTION = "learning"


def register(svc: Service[Any]) -> Projection:
    owner = svc.projection("owner")

    @owner.on(ModelRollbackRequested)
    async def on_rollback_requested(conn: asyncpg.Connection, applied: Applied[ModelRollbackRequested]) -> None:
        e = applied.event
        await conn.execute("INSERT INTO rollback_requests (version, requested_by, requested_at) VALUES ($1, $2, $3)"
                           " ON CONFLICT DO NOTHING", e.version, e.requested_by, e.requested_at)

    @owner.on(ContentRejectedByOwner)
    async def on_owner_rejected(conn: asyncpg.Connection, applied: Applied[ContentRejectedByOwner]) -> None:
        e = applied.event
        await conn.execute("INSERT INTO owner_rejections (content_id, reason, rejected_at) VALUES ($1, $2, $3)"
                           " ON CONFLICT DO NOTHING", e.content_id, e.reason, e.rejected_at)

    @owner.on(TweetDeleted)
    async def on_deleted(conn: asyncpg.Connection, applied: Applied[TweetDeleted]) -> None:
        e = applied.event
        await conn.execute("INSERT INTO deleted_posts (content_id, deleted_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                           e.content_id, e.deleted_at)

    proj = svc.projection(PROJECTION)

    @proj.on_batch(ContentQueued)
    async def on_queued(conn: asyncpg.Connection, items: list[Applied[ContentQueued]]) -> None:
        # The first decision for a content id is the one taken; a re-queued id changes nothing.
        await conn.executemany(
            "INSERT INTO decisions (content_id, seq, kind, choice, policy_version, propensity, text, queued_at, "
            "reply_context) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (content_id) DO NOTHING",
            [(e.content_id, i.seq, e.kind, e.choice.model_dump_json(), e.policy_version, e.propensity,
              "\n".join(e.parts), i.envelope.occurred_at,
              e.reply_context.model_dump_json() if e.reply_context is not None else None)
             for i in items for e in [i.event]])

    @proj.on_batch(TweetPosted)
    async def on_posted(conn: asyncpg.Connection, items: list[Applied[TweetPosted]]) -> None:
        await conn.executemany(
            "INSERT INTO posts (content_id, tweet_ids, kind, posted_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (content_id) DO NOTHING",
            [(e.content_id, e.tweet_ids, e.kind, e.posted_at) for i in items for e in [i.event]])

    @proj.on_batch(MetricsScraped)
    async def on_metrics(conn: asyncpg.Connection, items: list[Applied[MetricsScraped]]) -> None:
        await conn.executemany(
            "INSERT INTO metric_reads (tweet_id, checkpoint, content_id, seq, checkpoint_hours, likes, retweets, "
            "replies, views, bookmarks, profile_clicks, follows, observed_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
            "ON CONFLICT (tweet_id, checkpoint) DO NOTHING",
            [(e.tweet_id, e.checkpoint, e.content_id, i.seq, e.checkpoint_hours, e.likes, e.retweets, e.replies,
              e.views, e.bookmarks, e.profile_clicks, e.follows, e.observed_at) for i in items for e in [i.event]])

    @proj.on_batch(FollowersSnapshotted)
    async def on_followers(conn: asyncpg.Connection, items: list[Applied[FollowersSnapshotted]]) -> None:
        await conn.executemany(
            "INSERT INTO follower_attribution (snapshot, content_id, tweet_id, seq, followers, observed_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            [(e.dedup_key(), a.content_id, a.tweet_id, i.seq, a.followers, e.observed_at)
             for i in items for e in [i.event] for a in e.attribution])

    @proj.on_batch(TweetGone, CommunityNoteShown)
    async def on_x_marks(conn: asyncpg.Connection, items: list[Applied[XMark]]) -> None:
        await record_x_marks(conn, [i.event for i in items])

    @proj.on_batch(PastPostsRead)
    async def on_past_posts(conn: asyncpg.Connection, items: list[Applied[PastPostsRead]]) -> None:
        await conn.executemany(
            "INSERT INTO past_posts (tweet_id, seq, text, created_at, likes, retweets, replies, views) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tweet_id) DO NOTHING",
            [(p.tweet_id, i.seq, p.text, p.created_at, p.likes, p.retweets, p.replies, p.views)
             for i in items for p in i.event.posts])

    @proj.on(FormatInsights)
    async def on_format_insights(conn: asyncpg.Connection, applied: Applied[FormatInsights]) -> None:
        # Only the latest day's insights are priors; a redelivered older day never replaces a newer one.
        e = applied.event
        await conn.execute(
            "INSERT INTO format_insights (id, seq, day, lifts) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE "
            "SET seq = EXCLUDED.seq, day = EXCLUDED.day, lifts = EXCLUDED.lifts WHERE format_insights.day <= "
            "EXCLUDED.day", applied.seq, e.day, json.dumps({f.feature: f.lift for f in e.lifts}))

    @proj.on(ModelUpdated)
    async def on_model(conn: asyncpg.Connection, applied: Applied[ModelUpdated]) -> None:
        e = applied.event
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
    # A reply's draw (ContentQueued.reply_context); None for posts.
    reply_context: dict | None = None


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
    followers: tuple[tuple[str, float], ...]  # (content_id, followers): attribution rows, then X's own counts
    # The snapshot (FollowersSnapshotted.dedup_key) of each attribution row of ``followers``, in the same order:
    # the follow-rate model shares each snapshot's credit again (Learner._reattributed). Derived from the rows'
    # events, so it stays out of the digest.
    follower_snapshots: tuple[str, ...] = ()
    # Peers' format lifts of the latest FormatInsights (feature, log-lift): priors of the arms they cover.
    format_lifts: tuple[tuple[str, float], ...] = ()
    # Content ids of the drafts the owner rejected in the console, sorted (only the set matters: each enters the
    # model at its decision's place).
    rejections: tuple[str, ...] = ()
    # Content ids of the posts deleted from X (by the owner in the console, or found gone: TweetGone) or under a
    # Community Note (CommunityNoteShown), sorted: their reads stand as read, but none is named among the best posts
    # (the planner's examples of the account's voice).
    withdrawn: tuple[str, ...] = ()
    # Replies that carry their draw, in stream order: the reply policy's decisions (issue 24).
    replies: tuple[Decision, ...] = ()
    # The account's posts from before xbot, oldest first (the posts' model starts from them).
    past_posts: tuple[PastPost, ...] = ()
    # (content_id, UTC hour) of the posts that went out in another hour than the one chosen, in decision order.
    posted_hours: tuple[tuple[str, int], ...] = ()

    def digest(self) -> str:
        """A short fingerprint of the data: part of the version id, and how the job knows nothing changed."""
        # A post's reply_context (always None) stays out: earlier versions keep their fingerprints.
        parts: list[object] = [[{k: v for k, v in d.__dict__.items() if k != "reply_context"}
                                for d in self.decisions], [m.__dict__ for m in self.metrics],
                               self.followers]
        if self.format_lifts:  # absent before the first insights: earlier versions keep their fingerprints
            parts.append(self.format_lifts)
        if self.rejections:  # the same: absent before the owner's first rejection
            parts.append({"owner_rejections": list(self.rejections)})
        if self.withdrawn:  # the same: absent before the first deletion or note
            parts.append({"withdrawn": list(self.withdrawn)})
        if self.replies:  # the same: absent before the first reply with its draw
            parts.append({"replies": [d.__dict__ for d in self.replies]})
        if self.posted_hours:  # the same: absent while every post went out in its chosen hour
            parts.append({"posted_hours": [list(p) for p in self.posted_hours]})
        if self.past_posts:  # the same: absent before the past posts are read
            parts.append({"past_posts": [[p.tweet_id, p.created_at.isoformat(), p.counts] for p in self.past_posts]})
        blob = json.dumps(parts, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:8]


async def training_data(conn: asyncpg.Connection) -> TrainingData:
    decisions = await conn.fetch(
        "SELECT content_id, kind, choice, propensity, policy_version, text FROM decisions "
        "WHERE kind <> 'reply' ORDER BY seq")
    # One read per item and checkpoint: the head tweet's when the post is known, else the first by tweet id.
    metrics = await conn.fetch(
        "SELECT DISTINCT ON (m.content_id, m.checkpoint_hours) m.content_id, m.checkpoint_hours, m.likes, "
        "m.retweets, m.replies, m.views, m.bookmarks, m.profile_clicks "
        "FROM metric_reads m LEFT JOIN posts p USING (content_id) "
        "ORDER BY m.content_id, m.checkpoint_hours, (m.tweet_id = p.tweet_ids[1]) DESC NULLS LAST, m.tweet_id")
    # Delayed credit: followers attributed within FOLLOWER_CREDIT_HOURS of the post count towards its reward; later
    # ones are another post's or nobody's doing. An item the poster has not reported yet keeps its rows.
    # An item whose reads carry X's own count of the accounts that followed from it is credited with that instead
    # (each tweet's latest read within the credit window, summed over its tweets): the post's own follows, where
    # the attribution can only share the count's changes among the posts active at the time.
    followers = await conn.fetch(
        "SELECT a.snapshot, a.content_id, a.followers FROM follower_attribution a LEFT JOIN posts p USING (content_id) "
        "WHERE (p.posted_at IS NULL OR a.observed_at <= p.posted_at + make_interval(secs => $1)) "
        "AND NOT EXISTS (SELECT 1 FROM metric_reads m WHERE m.content_id = a.content_id AND m.follows IS NOT NULL "
        "AND m.checkpoint_hours <= $2) "
        "ORDER BY a.seq, a.content_id, a.tweet_id", FOLLOWER_CREDIT_HOURS * 3600.0, FOLLOWER_CREDIT_HOURS)
    counted = await conn.fetch(
        "SELECT content_id, sum(follows)::float8 AS followers FROM ("
        " SELECT DISTINCT ON (content_id, tweet_id) content_id, follows FROM metric_reads"
        " WHERE follows IS NOT NULL AND checkpoint_hours <= $1"
        " ORDER BY content_id, tweet_id, checkpoint_hours DESC) latest "
        "GROUP BY content_id ORDER BY content_id", FOLLOWER_CREDIT_HOURS)
    replies = await conn.fetch(
        "SELECT content_id, kind, choice, propensity, policy_version, text, reply_context FROM decisions "
        "WHERE kind = 'reply' AND reply_context IS NOT NULL ORDER BY seq")
    lifts = await conn.fetchval("SELECT lifts FROM format_insights WHERE id = 1")
    rejections = await conn.fetch("SELECT content_id FROM owner_rejections ORDER BY content_id")
    withdrawn = await conn.fetch("SELECT content_id FROM deleted_posts UNION SELECT content_id FROM x_marks "
                                 "ORDER BY content_id")
    past = await conn.fetch("SELECT tweet_id, text, created_at, likes, retweets, replies, views FROM past_posts "
                            "ORDER BY created_at, tweet_id")
    posted = {r["content_id"]: r["posted_at"] for r in await conn.fetch(
        "SELECT content_id, posted_at FROM posts WHERE kind <> 'reply' AND posted_at IS NOT NULL")}
    posts = tuple(Decision(r["content_id"], r["kind"], json.loads(r["choice"]), r["propensity"], r["policy_version"],
                           r["text"]) for r in decisions)
    return TrainingData(
        decisions=posts,
        posted_hours=tuple((d.content_id, hour) for d in posts if d.content_id in posted
                           and (hour := posted[d.content_id].astimezone(UTC).hour) != d.choice.get("hour")),
        # A count the read could not see (NULL) is left out: the reward counts it as none.
        metrics=tuple(MetricRead(r["content_id"], r["checkpoint_hours"],
                                 {k: r[k] for k in ("likes", "retweets", "replies", "views", "bookmarks",
                                                    "profile_clicks") if r[k] is not None})
                      for r in metrics),
        followers=tuple((r["content_id"], r["followers"]) for r in [*followers, *counted]),
        follower_snapshots=tuple(r["snapshot"] for r in followers),
        format_lifts=tuple(sorted(json.loads(lifts).items())) if lifts else (),
        rejections=tuple(r["content_id"] for r in rejections),
        withdrawn=tuple(r["content_id"] for r in withdrawn),
        replies=tuple(Decision(r["content_id"], r["kind"], json.loads(r["choice"]), r["propensity"],
                               r["policy_version"], r["text"], json.loads(r["reply_context"])) for r in replies),
        past_posts=tuple(PastPost(r["tweet_id"], r["text"], r["created_at"],
                                  {k: float(r[k]) for k in ("likes", "retweets", "replies", "views")}) for r in past),
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
