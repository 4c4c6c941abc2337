"""The planner's tables (schema ``planner``) and the projections that fill them from events.

Consumed: the learner's ModelUpdated (policy in force), the harvester's OpportunityFound/Expired (opportunity
pool), the poster's TweetPosted/PostFailed, the scraper's PastPostsRead (the account's posts from before xbot: X
refuses a duplicate of them too), TweetGone and CommunityNoteShown (what X did to our tweets without us:
``x_marks``), the planner's own ContentQueued/ContentRejected/LlmUsageRecorded/BudgetExhausted (queue depth, own
recent posts, reply history, budget ledger), and the console's owner events (rejections, evergreen decisions,
posts deleted from X). The plan job only publishes: what it decided becomes a row when its event comes back, so a
replay rebuilds the same tables. Handlers read no clock: every time they store comes from an event.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from typing import Any

import asyncpg

from libs.contracts.events import (
    FormatInsights,
    NewsItemFound,
    BudgetExhausted,
    Choice,
    CommunityNoteShown,
    ContentQueued,
    ContentRejected,
    ContentRejectedByOwner,
    EvergreenDecided,
    EvergreenDrafted,
    LlmUsageRecorded,
    ModelUpdated,
    OpportunityExpired,
    OpportunityFound,
    PastPostsRead,
    PersonalDataPurged,
    PostFailed,
    TweetDeleted,
    TweetGone,
    XMark,
    TweetPosted,
)
from libs.formats import describe_patterns
from services.planner.news import NewsItem
from libs.runtime.service import Service
from libs.store.projection import Applied
from libs.store.x_marks import record_x_marks
from libs.text import content_hash
from services.planner.choices import Policy, QueueDepth
from services.planner.evergreen import EvergreenPost
from services.planner.replies import Opportunity, OurReply, ReplyHistory

PROJECTION = "plan"
_REPLY_IDS = uuid.UUID("6c1e3c52-3f0e-4d5e-9a43-4a1f0f5b7d21")


def reply_content_id(tweet_id: str) -> str:
    """The content id of our reply to a tweet: one per tweet, so a retried or repeated reply is the same item
    (and the same Nats-Msg-Id), and its final rejection can be found from the tweet."""
    return str(uuid.uuid5(_REPLY_IDS, f"reply:{tweet_id}"))


def register(svc: Service[Any]) -> None:
    owner = svc.projection("owner")

    @owner.on(ContentRejectedByOwner)
    async def on_owner_rejected(conn: asyncpg.Connection, applied: Applied[ContentRejectedByOwner]) -> None:
        e = applied.event
        await conn.execute("INSERT INTO owner_rejections (content_id, reason, rejected_at) VALUES ($1, $2, $3)"
                           " ON CONFLICT DO NOTHING", e.content_id, e.reason, e.rejected_at)

    @owner.on(TweetDeleted)
    async def on_deleted(conn: asyncpg.Connection, applied: Applied[TweetDeleted]) -> None:
        e = applied.event
        await conn.execute("INSERT INTO deleted_content (content_id, tweet_ids, deleted_at) VALUES ($1, $2, $3)"
                           " ON CONFLICT DO NOTHING", e.content_id, e.tweet_ids, e.deleted_at)

    @owner.on(EvergreenDecided)
    async def on_evergreen_decided(conn: asyncpg.Connection, applied: Applied[EvergreenDecided]) -> None:
        e = applied.event
        # The owner's latest word on an entry stands (a second decision replaces the first).
        await conn.execute(
            "INSERT INTO evergreen_decisions (evergreen_id, decision, reason, decided_by, decided_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (evergreen_id) DO UPDATE SET decision = EXCLUDED.decision,"
            " reason = EXCLUDED.reason, decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at",
            e.evergreen_id, e.decision, e.reason, e.decided_by, e.decided_at)

    proj = svc.projection(PROJECTION)

    @proj.on(ModelUpdated)
    async def on_model(conn: asyncpg.Connection, applied: Applied[ModelUpdated]) -> None:
        e = applied.event
        # The learner's stream is ordered: the last model published (a rollback included) is the one in force.
        await conn.execute(
            "INSERT INTO policy (id, version, event_id, created_at, propensities, insights, floor, best_posts, "
            "replies, predictor) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET "
            "version = EXCLUDED.version, event_id = EXCLUDED.event_id, created_at = EXCLUDED.created_at, "
            "propensities = EXCLUDED.propensities, insights = EXCLUDED.insights, floor = EXCLUDED.floor, "
            "best_posts = EXCLUDED.best_posts, replies = EXCLUDED.replies, predictor = EXCLUDED.predictor",
            e.version, applied.envelope.event_id, e.created_at, json.dumps(e.propensities), json.dumps(e.insights),
            e.floor, json.dumps([{"content_id": p.content_id, "text": p.text} for p in e.best_posts]),
            json.dumps(e.replies),
            json.dumps(e.predictors.get("engagement") or {}))

    @proj.on(FormatInsights)
    async def on_format_insights(conn: asyncpg.Connection, applied: Applied[FormatInsights]) -> None:
        e = applied.event
        patterns = describe_patterns([(f.feature, f.lift, f.low, f.high) for f in e.lifts])
        await conn.execute(
            "INSERT INTO format_patterns (id, day, patterns) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET "
            "day = EXCLUDED.day, patterns = EXCLUDED.patterns WHERE format_patterns.day <= EXCLUDED.day",
            e.day, json.dumps(patterns))

    @proj.on_batch(OpportunityFound)
    async def on_found(conn: asyncpg.Connection, items: list[Applied[OpportunityFound]]) -> None:
        # A tweet found again brings fresher counts; its identity (first event, author, text) stays.
        await conn.executemany(
            "INSERT INTO opportunities (tweet_id, event_id, reply_content_id, author, author_followers, text, likes, "
            "retweets, replies, tweet_created_at, relevance, topic, is_reply, found_at, conversation_id, "
            "quoted_author, quoted_text) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) ON CONFLICT (tweet_id) DO UPDATE SET "
            "author_followers = EXCLUDED.author_followers, likes = EXCLUDED.likes, retweets = EXCLUDED.retweets, "
            "replies = EXCLUDED.replies, relevance = EXCLUDED.relevance",
            [(e.tweet_id, i.envelope.event_id, reply_content_id(e.tweet_id), e.author, e.author_followers, e.text,
              e.likes, e.retweets, e.replies, e.tweet_created_at, e.relevance, e.topic, e.is_reply,
              i.envelope.occurred_at, e.conversation_id, e.quoted_author, e.quoted_text)
             for i in items for e in [i.event]])

    @proj.on_batch(OpportunityExpired)
    async def on_expired(conn: asyncpg.Connection, items: list[Applied[OpportunityExpired]]) -> None:
        await conn.executemany(
            "UPDATE opportunities SET expired_at = $2, expiry_reason = $3 WHERE tweet_id = $1 AND expired_at IS NULL",
            [(i.event.tweet_id, i.envelope.occurred_at, i.event.reason) for i in items])

    @proj.on(PersonalDataPurged)
    async def on_purged(conn: asyncpg.Connection, applied: Applied[PersonalDataPurged]) -> None:
        # The harvester's retention of strangers' tweets holds for our copy too (long past replying to them).
        await conn.execute("DELETE FROM opportunities WHERE found_at < $1", applied.event.before)

    @proj.on_batch(ContentQueued)
    async def on_queued(conn: asyncpg.Connection, items: list[Applied[ContentQueued]]) -> None:
        await conn.executemany(
            "INSERT INTO content (content_id, kind, topic, text, reply_to_tweet_id, reply_to_author, policy_version, "
            "queued_at, scheduled_for, expires_at, parts) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) "
            "ON CONFLICT (content_id) DO UPDATE SET kind = EXCLUDED.kind, topic = EXCLUDED.topic, "
            "text = EXCLUDED.text, parts = EXCLUDED.parts, reply_to_tweet_id = EXCLUDED.reply_to_tweet_id, "
            "reply_to_author = EXCLUDED.reply_to_author, policy_version = EXCLUDED.policy_version, "
            "queued_at = EXCLUDED.queued_at, scheduled_for = EXCLUDED.scheduled_for, expires_at = EXCLUDED.expires_at",
            [(e.content_id, e.kind, e.choice.topic, "\n".join(e.parts), e.reply_to_tweet_id, e.reply_to_author,
              e.policy_version, i.envelope.occurred_at, e.scheduled_for, e.expires_at, list(e.parts))
             for i in items for e in [i.event]])
        # The news item a post took as its angle is used (one post per item).
        await conn.executemany(
            "INSERT INTO news (item_id, title, summary, source, url, published_at, used_by) "
            "VALUES ($1,$2,'',$3,$4,$5,$6) ON CONFLICT (item_id) DO UPDATE SET used_by = EXCLUDED.used_by",
            [(e.angle.item_id, e.angle.title, e.angle.source, e.angle.url, e.angle.published_at, e.content_id)
             for i in items for e in [i.event] if e.angle is not None])

    @proj.on_batch(NewsItemFound)
    async def on_news(conn: asyncpg.Connection, items: list[Applied[NewsItemFound]]) -> None:
        # The item's text wins over the stub a ContentQueued may have made first (streams apply independently).
        await conn.executemany(
            "INSERT INTO news (item_id, title, summary, source, url, published_at, topic) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (item_id) DO UPDATE SET title = EXCLUDED.title, "
            "summary = EXCLUDED.summary, topic = EXCLUDED.topic",
            [(e.item_id, e.title, e.summary, e.source, e.url, e.published_at, e.topic)
             for i in items for e in [i.event]])

    @proj.on_batch(TweetPosted)
    async def on_posted(conn: asyncpg.Connection, items: list[Applied[TweetPosted]]) -> None:
        # The queued text wins over the posted one whichever arrives first (equal tables on replay).
        await conn.executemany(
            "INSERT INTO content (content_id, kind, text, reply_to_tweet_id, reply_to_author, posted_at, tweet_ids) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (content_id) DO UPDATE SET posted_at = EXCLUDED.posted_at, "
            "tweet_ids = EXCLUDED.tweet_ids, "
            "text = CASE WHEN content.queued_at IS NULL THEN EXCLUDED.text ELSE content.text END, "
            "reply_to_tweet_id = COALESCE(content.reply_to_tweet_id, EXCLUDED.reply_to_tweet_id), "
            "reply_to_author = COALESCE(content.reply_to_author, EXCLUDED.reply_to_author)",
            [(e.content_id, e.kind, e.text, e.reply_to_tweet_id, e.reply_to_author, e.posted_at, list(e.tweet_ids))
             for i in items for e in [i.event]])

    @proj.on_batch(TweetGone, CommunityNoteShown)
    async def on_x_marks(conn: asyncpg.Connection, items: list[Applied[XMark]]) -> None:
        await record_x_marks(conn, [i.event for i in items])

    @proj.on_batch(PastPostsRead)
    async def on_past_posts(conn: asyncpg.Connection, items: list[Applied[PastPostsRead]]) -> None:
        # The account's own posts from before xbot are its posts as far as the duplicate gates go (X compares a
        # new post with every post of the account's): rows of their own, never queued.
        await conn.executemany(
            "INSERT INTO content (content_id, kind, text, posted_at, tweet_ids) VALUES ($1, 'post', $2, $3, $4) "
            "ON CONFLICT (content_id) DO NOTHING",
            [(f"past:{p.tweet_id}", p.text, p.created_at, [p.tweet_id]) for i in items for p in i.event.posts])

    @proj.on_batch(PostFailed)
    async def on_failed(conn: asyncpg.Connection, items: list[Applied[PostFailed]]) -> None:
        await conn.executemany(
            "INSERT INTO content (content_id, kind, text, failed_at, fail_reason) VALUES ($1,$2,'',$3,$4) "
            "ON CONFLICT (content_id) DO UPDATE SET failed_at = EXCLUDED.failed_at, fail_reason = EXCLUDED.fail_reason",
            [(e.content_id, e.kind, e.failed_at or i.envelope.occurred_at, e.reason)
             for i in items for e in [i.event]])

    @proj.on_batch(ContentRejected)
    async def on_rejected(conn: asyncpg.Connection, items: list[Applied[ContentRejected]]) -> None:
        await conn.executemany(
            "INSERT INTO dropped (content_id, kind, gate, dropped_at) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING",
            [(e.content_id, e.kind, e.gate, i.envelope.occurred_at)
             for i in items for e in [i.event] if e.final])

    @proj.on_batch(LlmUsageRecorded)
    async def on_usage(conn: asyncpg.Connection, items: list[Applied[LlmUsageRecorded]]) -> None:
        await conn.executemany(
            "INSERT INTO llm_usage (request_id, day, model, purpose, prompt_tokens, completion_tokens, cost_usd, "
            "content_id, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING",
            [(e.request_id, e.day, e.model, e.purpose, e.prompt_tokens, e.completion_tokens, e.cost_usd,
              e.content_id, i.envelope.occurred_at) for i in items for e in [i.event]])

    @proj.on(BudgetExhausted)
    async def on_exhausted(conn: asyncpg.Connection, applied: Applied[BudgetExhausted]) -> None:
        e = applied.event
        await conn.execute(
            "INSERT INTO budget_exhausted (day, budget_usd, spent_usd, at) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING",
            e.day, e.budget_usd, e.spent_usd, applied.envelope.occurred_at)


# ---------------------------------------------------------------------- reads for the plan job


@dataclass(frozen=True)
class PolicyInForce:
    policy: Policy
    event_id: str | None = None


async def policy_in_force(conn: asyncpg.Connection) -> PolicyInForce:
    row = await conn.fetchrow(
        "SELECT version, event_id, propensities, insights, floor, best_posts, replies, predictor FROM policy "
        "WHERE id = 1")
    if row is None:
        return PolicyInForce(Policy())
    # The model's best posts but those deleted since, in the console or on X, and those X shows a Community Note
    # under (the model in force may be older than either). Rows kept before 2026-12-06 hold the texts alone.
    deleted = {r["content_id"] for r in await conn.fetch(
        "SELECT content_id FROM deleted_content UNION SELECT content_id FROM x_marks")}
    best = [p if isinstance(p, dict) else {"content_id": None, "text": p} for p in json.loads(row["best_posts"])]
    return PolicyInForce(Policy(version=row["version"], propensities=json.loads(row["propensities"]),
                                insights=json.loads(row["insights"]), floor=row["floor"],
                                best_posts=tuple(p["text"] for p in best if p["content_id"] not in deleted),
                                replies=json.loads(row["replies"]), predictor=json.loads(row["predictor"])),
                            row["event_id"])


async def unused_news(conn: asyncpg.Connection, since: datetime) -> list[NewsItem]:
    """News items no post has taken yet, published since ``since`` (older ones are stale: never offered)."""
    rows = await conn.fetch("SELECT * FROM news WHERE used_by IS NULL AND published_at >= $1 AND topic IS NOT NULL "
                            "ORDER BY published_at DESC, item_id", since)
    return [NewsItem(item_id=r["item_id"], title=r["title"], summary=r["summary"], source=r["source"], url=r["url"],
                     published_at=r["published_at"], topic=r["topic"]) for r in rows]


async def format_patterns(conn: asyncpg.Connection) -> list[str]:
    """The strongest format patterns peers' posts show (latest FormatInsights), for the post prompt."""
    value = await conn.fetchval("SELECT patterns FROM format_patterns WHERE id = 1")
    return list(json.loads(value)) if value else []


async def queue_depth(conn: asyncpg.Connection, now: datetime) -> QueueDepth:
    """Queued and not posted, failed or expired (posts also per scheduled hour); and posted since midnight UTC."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    row = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE kind <> 'reply' AND pending) AS pending_posts, "
        "count(*) FILTER (WHERE kind = 'reply' AND pending) AS pending_replies, "
        "count(*) FILTER (WHERE kind <> 'reply' AND posted_at >= $2) AS posted_posts_today, "
        "count(*) FILTER (WHERE kind = 'reply' AND posted_at >= $2) AS posted_replies_today "
        "FROM (SELECT kind, posted_at, queued_at IS NOT NULL AND posted_at IS NULL AND failed_at IS NULL "
        "AND expires_at > $1 AS pending FROM content) c", now, midnight)
    by_hour = await conn.fetch(
        "SELECT extract(hour FROM scheduled_for AT TIME ZONE 'UTC')::int AS hour, count(*) AS n FROM content "
        "WHERE kind <> 'reply' AND queued_at IS NOT NULL AND posted_at IS NULL AND failed_at IS NULL "
        "AND expires_at > $1 AND scheduled_for IS NOT NULL GROUP BY 1", now)
    return QueueDepth(**dict(row), queued_by_hour={r["hour"]: r["n"] for r in by_hour})


@dataclass(frozen=True)
class OwnPostRow:
    content_id: str
    text: str
    topic: str | None
    at: datetime


async def own_posts_since(conn: asyncpg.Connection, since: datetime) -> list[OwnPostRow]:
    rows = await conn.fetch(
        "SELECT content_id, text, topic, COALESCE(queued_at, posted_at) AS at FROM content "
        "WHERE kind <> 'reply' AND text <> '' AND COALESCE(queued_at, posted_at) >= $1 ORDER BY at, content_id",
        since)
    return [OwnPostRow(r["content_id"], r["text"], r["topic"], r["at"]) for r in rows]


async def own_tweet_texts_since(conn: asyncpg.Connection, since: datetime) -> list[tuple[str, datetime]]:
    """The text of every tweet of ours queued or posted since ``since``, with when: each part of posts and
    threads, and replies (what X compares a new tweet against)."""
    rows = await conn.fetch(
        "SELECT unnest(COALESCE(parts, ARRAY[text])) AS tweet, COALESCE(queued_at, posted_at) AS at FROM content "
        "WHERE text <> '' AND COALESCE(queued_at, posted_at) >= $1", since)
    return [(r["tweet"], r["at"]) for r in rows]


async def reply_history(conn: asyncpg.Connection, since: datetime) -> ReplyHistory:
    """Our replies since ``since`` (cooldowns and daily caps look back at most a day)."""
    # An answer in our own conversation belongs to our post's conversation; any other reply to its target's.
    rows = await conn.fetch(
        "SELECT c.reply_to_tweet_id, c.reply_to_author, COALESCE(c.queued_at, c.posted_at) AS at, "
        "COALESCE(o.conversation_id, c.reply_to_tweet_id) AS conversation FROM content c "
        "LEFT JOIN opportunities o ON o.tweet_id = c.reply_to_tweet_id "
        "WHERE c.kind = 'reply' AND c.reply_to_tweet_id IS NOT NULL AND COALESCE(c.queued_at, c.posted_at) >= $1 "
        "ORDER BY at, c.reply_to_tweet_id", since)
    return ReplyHistory([OurReply(r["reply_to_tweet_id"], r["reply_to_author"] or "", r["conversation"],
                                  r["at"]) for r in rows])


@dataclass(frozen=True)
class PooledOpportunity:
    opportunity: Opportunity
    event_id: str
    content_id: str


async def open_opportunities(conn: asyncpg.Connection, now: datetime, max_age: timedelta) -> list[PooledOpportunity]:
    """The pool: not expired, fresh enough, never answered (queued, posted or dropped reply) — ever; and no reply
    under a tweet of ours that is deleted, in the console or on X, or that X removed (the conversation is over:
    answering in it would bring it back)."""
    # A reply our post (or reply) got comes with that tweet's text (ours, as queued), so that the answer is
    # written in view of what the person replied to.
    rows = await conn.fetch(
        "SELECT o.*, (SELECT p.text FROM content p WHERE p.tweet_ids[1] = o.conversation_id LIMIT 1) AS our_tweet "
        "FROM opportunities o WHERE o.expired_at IS NULL AND o.tweet_created_at > $1 "
        "AND NOT EXISTS (SELECT 1 FROM content c WHERE c.reply_to_tweet_id = o.tweet_id "
        "                OR c.content_id = o.reply_content_id) "
        "AND NOT EXISTS (SELECT 1 FROM dropped d WHERE d.content_id = o.reply_content_id) "
        "AND NOT EXISTS (SELECT 1 FROM deleted_content x WHERE o.conversation_id = ANY(x.tweet_ids)) "
        "AND NOT EXISTS (SELECT 1 FROM x_marks g WHERE g.tweet_id = o.conversation_id AND g.mark = 'gone') "
        "ORDER BY o.tweet_id", now - max_age)
    return [PooledOpportunity(
        Opportunity(tweet_id=r["tweet_id"], author=r["author"], author_followers=r["author_followers"],
                    text=r["text"], likes=r["likes"], retweets=r["retweets"], replies=r["replies"],
                    created_at=r["tweet_created_at"], relevance=r["relevance"], topic=r["topic"],
                    is_reply=r["is_reply"], conversation_id=r["conversation_id"],
                    kind="conversation" if r["conversation_id"] else "tweet", our_tweet=r["our_tweet"],
                    quoted_author=r["quoted_author"], quoted_text=r["quoted_text"]),
        r["event_id"], r["reply_content_id"]) for r in rows]


async def noted_texts(conn: asyncpg.Connection) -> list[str]:
    """The texts of our items X shows a Community Note under (x_marks), one per item (a thread's parts may each be
    noted), by content id."""
    rows = await conn.fetch("SELECT DISTINCT ON (c.content_id) c.text FROM x_marks x JOIN content c USING (content_id)"
                            " WHERE x.mark = 'noted' AND c.text IS NOT NULL ORDER BY c.content_id")
    return [r["text"] for r in rows]


async def spent_on(conn: asyncpg.Connection, day: str) -> float:
    return float(await conn.fetchval("SELECT COALESCE(sum(cost_usd), 0) FROM llm_usage WHERE day = $1", day))


async def exhausted_on(conn: asyncpg.Connection, day: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM budget_exhausted WHERE day = $1)", day))


async def pool_size(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM opportunities WHERE expired_at IS NULL"))


# The owner's reasons the model sees as things to avoid: the latest few within this long.
OWNER_REASONS = 3
OWNER_REASONS_FOR = timedelta(days=14)


async def owner_reasons(conn: asyncpg.Connection, now: datetime) -> list[str]:
    """The owner's latest distinct rejection reasons (ContentRejectedByOwner), newest first."""
    rows = await conn.fetch(
        "SELECT reason FROM owner_rejections WHERE rejected_at > $1 GROUP BY reason ORDER BY max(rejected_at) DESC"
        " LIMIT $2", now - OWNER_REASONS_FOR, OWNER_REASONS)
    return [r["reason"] for r in rows]


# ---------------------------------------------------------------- the evergreen pool (job-owned, not a projection)


async def evergreen_posts(conn: asyncpg.Connection) -> list[EvergreenPost]:
    rows = await conn.fetch("SELECT content_hash, kind, parts, choice, propensity, model, drafted_at, used_at "
                            "FROM evergreen")
    return [EvergreenPost(r["content_hash"], r["kind"], tuple(r["parts"]), Choice.model_validate_json(r["choice"]),
                          r["propensity"], r["model"], r["drafted_at"], r["used_at"]) for r in rows]


async def evergreen_unused(conn: asyncpg.Connection) -> int:
    """Entries never queued yet and not rejected by the owner: what the pool still holds in reserve."""
    return int(await conn.fetchval(
        "SELECT count(*) FROM evergreen e WHERE used_at IS NULL AND NOT EXISTS (SELECT 1 FROM evergreen_decisions d"
        " WHERE d.evergreen_id = e.content_hash AND d.decision = 'rejected')"))


async def evergreen_decisions(conn: asyncpg.Connection) -> dict[str, str]:
    """The owner's decision per pool entry (EvergreenDecided): "approved" or "rejected"."""
    rows = await conn.fetch("SELECT evergreen_id, decision FROM evergreen_decisions")
    return {r["evergreen_id"]: r["decision"] for r in rows}


def evergreen_id(parts: list[str] | tuple[str, ...]) -> str:
    """A pool entry's key: the hash of its text (the same draft kept twice is one entry)."""
    return content_hash("\n".join(parts))


async def add_evergreen(conn: asyncpg.Connection, item: ContentQueued, at: datetime) -> EvergreenDrafted | None:
    """Keep a draft that passed every gate for a day the model cannot be used; the EvergreenDrafted to record (the
    owner approves it in the console), or None when the same draft is kept already."""
    key = evergreen_id(item.parts)
    added = await conn.fetchval(
        "INSERT INTO evergreen (content_hash, kind, parts, choice, propensity, model, drafted_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (content_hash) DO NOTHING RETURNING content_hash",
        key, item.kind, list(item.parts), item.choice.model_dump_json(), item.propensity, item.model or "", at)
    if added is None or item.kind == "reply":
        return None
    return EvergreenDrafted(evergreen_id=key, kind=item.kind, parts=list(item.parts), choice=item.choice,
                            model=item.model, drafted_at=at)


async def mark_evergreen_used(conn: asyncpg.Connection, key: str, at: datetime) -> None:
    await conn.execute("UPDATE evergreen SET used_at = $2 WHERE content_hash = $1", key, at)
