-- The posting queue: one row per ContentQueued (idempotent on content_id), written by the projection;
-- the posting cycle moves it from queued to posted or failed.
CREATE TABLE IF NOT EXISTS queue (
    content_id        text PRIMARY KEY,
    kind              text NOT NULL,
    parts             jsonb NOT NULL,
    reply_to_tweet_id text,
    reply_to_author   text,
    scheduled_for     timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    queued_event_id   text NOT NULL,
    correlation_id    text,
    status            text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'posted', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    not_before        timestamptz,
    -- Ids of the parts on X so far, first part first (a thread is completed from the first missing part).
    tweet_ids         jsonb NOT NULL DEFAULT '[]',
    first_attempt_at  timestamptz,
    reconciled        boolean NOT NULL DEFAULT false,
    finished_at       timestamptz
);
CREATE INDEX IF NOT EXISTS queue_open ON queue (scheduled_for) WHERE status = 'queued';

-- Durable intents: committed BEFORE the gateway call; outcome NULL = the write may or may not be on X.
CREATE TABLE IF NOT EXISTS attempts (
    content_id  text NOT NULL REFERENCES queue (content_id),
    attempt_no  integer NOT NULL,
    part_index  integer NOT NULL,
    started_at  timestamptz NOT NULL,
    -- posted | refused | not_posted | partial | inconsistent
    outcome     text,
    -- The gateway answered with an error (no request is still in flight): a read-back may conclude at once.
    answered    boolean NOT NULL DEFAULT false,
    error_code  text,
    error       text,
    tweet_ids   jsonb,
    finished_at timestamptz,
    PRIMARY KEY (content_id, attempt_no, part_index)
);
CREATE INDEX IF NOT EXISTS attempts_open ON attempts (content_id) WHERE outcome IS NULL;

-- Every write that reached X or may have (pacing and caps count it); jitter drawn once and stored.
CREATE TABLE IF NOT EXISTS history (
    id         bigserial PRIMARY KEY,
    content_id text NOT NULL,
    attempt_no integer NOT NULL,
    lane       text NOT NULL CHECK (lane IN ('content', 'reply')),
    at         timestamptz NOT NULL,
    jitter_s   double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS history_at ON history (at);

-- Account risk (including the service starts of the crash-loop rule) and the breaker, as JSON documents.
CREATE TABLE IF NOT EXISTS poster_state (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);

-- Outcome events committed with the outcome and published after; a row left unpublished by a crash is
-- published on the next cycle (TweetPosted's Nats-Msg-Id derives from the content id, so a repeat dedups).
CREATE TABLE IF NOT EXISTS outbox (
    id             bigserial PRIMARY KEY,
    content_id     text NOT NULL,
    event_type     text NOT NULL,
    payload        jsonb NOT NULL,
    correlation_id text,
    causation_id   text,
    created_at     timestamptz NOT NULL,
    published_at   timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_one_outcome ON outbox (content_id);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
