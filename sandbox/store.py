"""The sandbox's durable state in one SQLite file: our tweets (with the reactions already decided for them), login
sessions, and what the account did (the activity ledger, its locks and the marks of admin resets). The population
is not stored: it is regenerated from the seed (sandbox/population.py).

Every write commits at once, so a sandbox killed mid-run and restarted loses no post, follower or metric:
followers and metrics are functions of these rows and the clock.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sandbox.audience import Engagement, PostChoice

SCHEMA = """
CREATE TABLE IF NOT EXISTS own_tweets (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('post', 'reply')),
    text TEXT NOT NULL,
    created_at REAL NOT NULL,
    in_reply_to TEXT,
    reply_to_handle TEXT,
    thread_root TEXT,
    choice TEXT,
    final TEXT NOT NULL,
    followers_at_post INTEGER NOT NULL,
    reach_penalty REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS own_tweets_created ON own_tweets (created_at);
-- Our tweets deleted on X (the Delete menu or DELETE /2/tweets/:id): they stay in own_tweets (the followers
-- they brought stay) but no page or API shows them any more.
CREATE TABLE IF NOT EXISTS deleted_tweets (
    id TEXT PRIMARY KEY,
    deleted_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    auth_token TEXT PRIMARY KEY,
    ct0 TEXT NOT NULL,
    created_at REAL NOT NULL,
    expired INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS activity (
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('page', 'scroll', 'api', 'write', 'login')),
    key TEXT NOT NULL,
    posts INTEGER NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activity_at ON activity (at);
CREATE TABLE IF NOT EXISTS locks (
    started_at REAL NOT NULL,
    until REAL NOT NULL,
    score REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS marks (
    name TEXT PRIMARY KEY,
    value REAL NOT NULL
);
"""


@dataclass
class OwnTweet:
    id: str
    kind: str  # "post" (a single or a thread part we wrote ourselves) or "reply" (to someone else)
    text: str
    created_at: float
    in_reply_to: str | None
    reply_to_handle: str | None
    thread_root: str | None  # first part of the self-thread this tweet belongs to
    choice: PostChoice | None  # inferred for posts; None for replies to others
    final: Engagement
    followers_at_post: int
    reach_penalty: float


@dataclass(frozen=True)
class Served:
    """One thing the sandbox served to our logged-in account: a page, a GraphQL read, a write, a login."""

    at: float
    kind: str  # home | search | status | profile | analytics | post | reply | login
    channel: str  # page | scroll (a timeline's next batch) | api | write | login
    key: str  # the query, tweet id or handle read; a write's normalised text
    posts: int  # posts viewed: the articles it rendered
    outcome: str  # ok | rate_limited | created | automation | a world refusal | forced:<mode>


@dataclass(frozen=True)
class Lock:
    started_at: float
    until: float
    score: float


class Store:
    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # One event loop thread uses the connection; aiohttp handlers never run it concurrently.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._allow_scroll_rows()

    def _allow_scroll_rows(self) -> None:
        """A ledger written before timelines loaded on scroll has a CHECK without 'scroll': copy it into the
        current table (SQLite cannot change a constraint in place)."""
        (sql,) = self._db.execute("SELECT sql FROM sqlite_master WHERE name = 'activity'").fetchone()
        if "'scroll'" in sql:
            return
        self._db.executescript("BEGIN; ALTER TABLE activity RENAME TO activity_before_scroll; DROP INDEX activity_at;"
                               + SCHEMA + "INSERT INTO activity SELECT * FROM activity_before_scroll;"
                               " DROP TABLE activity_before_scroll; COMMIT;")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction for several writes: all of them land, or none (a sandbox killed while it writes the
        account's history must not restart with half of it)."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def save_tweet(self, t: OwnTweet) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO own_tweets VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (t.id, t.kind, t.text, t.created_at, t.in_reply_to, t.reply_to_handle, t.thread_root,
             json.dumps(dataclasses.asdict(t.choice)) if t.choice else None,
             json.dumps(dataclasses.asdict(t.final)), t.followers_at_post, t.reach_penalty),
        )

    def load_tweets(self) -> list[OwnTweet]:
        rows = self._db.execute("SELECT * FROM own_tweets ORDER BY created_at, id").fetchall()
        return [
            OwnTweet(id=r[0], kind=r[1], text=r[2], created_at=r[3], in_reply_to=r[4], reply_to_handle=r[5],
                     thread_root=r[6], choice=PostChoice(**json.loads(r[7])) if r[7] else None,
                     final=Engagement(**json.loads(r[8])), followers_at_post=r[9], reach_penalty=r[10])
            for r in rows
        ]

    def delete_tweet(self, tweet_id: str, at: float) -> None:
        self._db.execute("INSERT OR IGNORE INTO deleted_tweets VALUES (?, ?)", (tweet_id, at))

    def deleted_tweets(self) -> dict[str, float]:
        return dict(self._db.execute("SELECT id, deleted_at FROM deleted_tweets").fetchall())

    def add_session(self, auth_token: str, ct0: str, created_at: float) -> None:
        self._db.execute("INSERT INTO sessions (auth_token, ct0, created_at) VALUES (?,?,?)",
                         (auth_token, ct0, created_at))

    def session_ct0(self, auth_token: str) -> str | None:
        row = self._db.execute("SELECT ct0 FROM sessions WHERE auth_token = ? AND expired = 0",
                               (auth_token,)).fetchone()
        return row[0] if row else None

    def expire_sessions(self) -> None:
        self._db.execute("UPDATE sessions SET expired = 1")

    def add_served(self, s: Served) -> None:
        self._db.execute("INSERT INTO activity VALUES (?,?,?,?,?,?)",
                         (s.at, s.kind, s.channel, s.key, s.posts, s.outcome))

    def load_served(self, since: float | None = None) -> list[Served]:
        rows = self._db.execute("SELECT * FROM activity WHERE at >= ? ORDER BY at, rowid",
                                (float("-inf") if since is None else since,)).fetchall()
        return [Served(*r) for r in rows]

    def add_lock(self, lock: Lock) -> None:
        self._db.execute("INSERT INTO locks VALUES (?,?,?)", (lock.started_at, lock.until, lock.score))

    def end_locks(self, at: float) -> None:
        """Lift every lock still running at ``at`` (an admin reset)."""
        self._db.execute("UPDATE locks SET until = ? WHERE until > ?", (at, at))

    def load_locks(self) -> list[Lock]:
        return [Lock(*r) for r in self._db.execute("SELECT * FROM locks ORDER BY started_at").fetchall()]

    def set_mark(self, name: str, value: float) -> None:
        self._db.execute("INSERT OR REPLACE INTO marks VALUES (?,?)", (name, value))

    def marks(self) -> dict[str, float]:
        return dict(self._db.execute("SELECT name, value FROM marks").fetchall())
