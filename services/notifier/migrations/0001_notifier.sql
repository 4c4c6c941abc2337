-- Projection tables (written by projections only; `xbot replay notifier` rebuilds them from the streams).

-- What the events say the owner should hear about (WritesHalted, SessionExpired, AccountRiskChanged,
-- BudgetExhausted, LlmHalted). id: the event's natural key, so a redelivery is the same notice.
CREATE TABLE notices (
    id          text        PRIMARY KEY,
    kind        text        NOT NULL,
    key         text        NOT NULL,
    title       text        NOT NULL,
    body        text        NOT NULL,
    severity    text        NOT NULL,
    occurred_at timestamptz NOT NULL
);

-- Drafts waiting for the owner's approval (ApprovalRequested), told in batches.
CREATE TABLE approvals (
    content_id   text        PRIMARY KEY,
    kind         text        NOT NULL,
    preview      text        NOT NULL,
    requested_at timestamptz NOT NULL
);

-- The day's figures for the digest: own posts (TweetPosted), their latest counts (MetricsScraped), follower
-- counts (FollowersSnapshotted) and LLM spend (LlmUsageRecorded).
CREATE TABLE posts (
    content_id text        PRIMARY KEY,
    tweet_id   text        NOT NULL,
    kind       text        NOT NULL,
    url        text        NOT NULL,
    text       text        NOT NULL,
    posted_at  timestamptz NOT NULL
);
CREATE INDEX posts_posted_at ON posts (posted_at);

CREATE TABLE post_counts (
    tweet_id    text        PRIMARY KEY,
    likes       integer     NOT NULL,
    retweets    integer     NOT NULL,
    replies     integer     NOT NULL,
    views       integer     NOT NULL,
    observed_at timestamptz NOT NULL
);

CREATE TABLE followers (
    observed_at timestamptz PRIMARY KEY,
    followers   integer     NOT NULL
);

CREATE TABLE spend (
    request_id text             PRIMARY KEY,
    day        text             NOT NULL,
    cost_usd   double precision NOT NULL
);
CREATE INDEX spend_day ON spend (day);

-- Job-owned tables (no event carries what they hold; replay moves them whole).

-- Notices made by the notifier itself: Alertmanager's webhook, the digest, approval batches, its own watch.
CREATE TABLE outgoing (
    id          text        PRIMARY KEY,
    kind        text        NOT NULL,
    key         text        NOT NULL,
    title       text        NOT NULL,
    body        text        NOT NULL,
    severity    text        NOT NULL,
    occurred_at timestamptz NOT NULL
);

-- What became of each notice, decided once: sent, off (kind switched off), stale, repeat, failed, unrouted.
CREATE TABLE handled (
    notice_id  text        PRIMARY KEY,
    outcome    text        NOT NULL,
    handled_at timestamptz NOT NULL
);

-- Each channel that took a notice (a notice is sent to each channel once; a failing channel is retried).
CREATE TABLE deliveries (
    notice_id    text        NOT NULL,
    channel      text        NOT NULL,
    delivered_at timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text,
    PRIMARY KEY (notice_id, channel)
);

-- When each piece of news (a notice's key) last went out, and how many repeats were held back since.
CREATE TABLE repeats (
    key          text        PRIMARY KEY,
    last_sent_at timestamptz NOT NULL,
    held_back    integer     NOT NULL DEFAULT 0,
    held_since   timestamptz
);

-- Drafts already told about.
CREATE TABLE approvals_told (
    content_id text PRIMARY KEY
);

-- The notifier's own facts: when it first ran (no digest of days before it), the dead letters last counted.
CREATE TABLE notifier_state (
    key   text  PRIMARY KEY,
    value jsonb NOT NULL
);
