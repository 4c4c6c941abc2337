-- Projection tables (written by projections only; `xbot replay console` rebuilds them from the streams).

-- Every item the planner (or later the owner) queued, with what happened to it: the owner's decision and edits
-- (the console's own stream), the poster's outcome (TweetPosted / PostFailed).
CREATE TABLE items (
    content_id        text        PRIMARY KEY,
    kind              text        NOT NULL,
    parts             jsonb       NOT NULL,
    choice            jsonb       NOT NULL,
    propensity        double precision NOT NULL,
    policy_version    text        NOT NULL,
    reply_to_tweet_id text,
    reply_to_author   text,
    scheduled_for     timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    queued_at         timestamptz NOT NULL,
    -- The owner's latest edit (ContentEdited), shown and approved instead of the planner's text.
    edited_parts      jsonb,
    decision          text CHECK (decision IN ('approved', 'rejected')),
    decision_reason   text,
    decided_by        text,
    decided_at        timestamptz,
    status            text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'posted', 'failed')),
    failed_reason     text,
    tweet_id          text,
    url               text,
    posted_at         timestamptz
);
CREATE INDEX items_open ON items (scheduled_for) WHERE status = 'queued';

-- The poster's items that reached the console's stream before the planner's ContentQueued (streams are read
-- independently): applied when the item arrives.
CREATE TABLE outcomes_early (
    content_id    text        PRIMARY KEY,
    status        text        NOT NULL,
    failed_reason text,
    tweet_id      text,
    url           text,
    posted_at     timestamptz
);

-- Metrics per checkpoint (MetricsScraped).
CREATE TABLE metrics (
    tweet_id    text        NOT NULL,
    checkpoint  text        NOT NULL,
    content_id  text        NOT NULL,
    hours       double precision NOT NULL,
    likes       integer     NOT NULL,
    retweets    integer     NOT NULL,
    replies     integer     NOT NULL,
    views       integer     NOT NULL,
    observed_at timestamptz NOT NULL,
    PRIMARY KEY (tweet_id, checkpoint)
);

-- Follower counts and the share of each window's new followers attributed to a post (FollowersSnapshotted).
CREATE TABLE followers (
    observed_at timestamptz PRIMARY KEY,
    followers   integer     NOT NULL,
    delta       integer     NOT NULL
);
CREATE TABLE attributed (
    content_id  text        NOT NULL,
    observed_at timestamptz NOT NULL,
    followers   double precision NOT NULL,
    PRIMARY KEY (content_id, observed_at)
);

-- The learner's model versions (ModelUpdated).
CREATE TABLE models (
    version       text        PRIMARY KEY,
    parent        text,
    created_at    timestamptz NOT NULL,
    posteriors    jsonb       NOT NULL,
    evaluation    jsonb       NOT NULL,
    training_size integer     NOT NULL,
    rollback_of   text
);

-- The account's risk level (AccountRiskChanged, the gateway's guardian).
CREATE TABLE risk (
    handle       text        PRIMARY KEY,
    level        integer     NOT NULL,
    level_name   text        NOT NULL,
    signal       text        NOT NULL,
    budget_share double precision,
    changed_at   timestamptz NOT NULL
);

-- Job-owned (written by the web app and the approval job; no event carries them).

-- The one owner's password hash (scrypt; `xbot console set-password`).
CREATE TABLE owner (
    id            integer     PRIMARY KEY CHECK (id = 1),
    password_hash text        NOT NULL,
    set_at        timestamptz NOT NULL
);
-- Signed-in sessions: the token's SHA-256 (never the token), its CSRF token, when it ends (real time).
CREATE TABLE sessions (
    digest     text        PRIMARY KEY,
    csrf       text        NOT NULL,
    expires_at timestamptz NOT NULL
);
-- Every pause and resume made in the console: who and when.
CREATE TABLE switch_log (
    id     bigserial   PRIMARY KEY,
    action text        NOT NULL CHECK (action IN ('pause', 'resume')),
    by     text        NOT NULL,
    reason text        NOT NULL,
    at     timestamptz NOT NULL
);
-- Items the approval job asked the owner about (ApprovalRequested recorded once per item).
CREATE TABLE asked (
    content_id text        PRIMARY KEY,
    asked_at   timestamptz NOT NULL
);
