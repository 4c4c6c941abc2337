-- The policy in force: the latest ModelUpdated in the learner's stream (one row; none = uniform).
CREATE TABLE policy (
    id           smallint         PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version      text             NOT NULL,
    event_id     text             NOT NULL,
    created_at   timestamptz      NOT NULL,
    propensities jsonb            NOT NULL,
    insights     jsonb            NOT NULL,
    floor        double precision NOT NULL
);

-- The harvester's opportunities; the pool is the ones not expired. reply_content_id is the content id a reply
-- to the tweet gets (derived from the tweet id), so a final rejection of that reply is found again.
CREATE TABLE opportunities (
    tweet_id         text             PRIMARY KEY,
    event_id         text             NOT NULL,
    reply_content_id text             NOT NULL,
    author           text             NOT NULL,
    author_followers integer          NOT NULL,
    text             text             NOT NULL,
    likes            integer          NOT NULL,
    retweets         integer          NOT NULL,
    replies          integer          NOT NULL,
    tweet_created_at timestamptz      NOT NULL,
    relevance        double precision NOT NULL,
    topic            text,
    is_reply         boolean          NOT NULL,
    found_at         timestamptz      NOT NULL,
    expired_at       timestamptz,
    expiry_reason    text
);
CREATE INDEX opportunities_pool ON opportunities (tweet_created_at) WHERE expired_at IS NULL;

-- Our items: queued (own ContentQueued), posted (poster's TweetPosted) or failed (poster's PostFailed). The two
-- streams are applied independently, so each event sets only its own columns and a row may start from either.
CREATE TABLE content (
    content_id        text        PRIMARY KEY,
    kind              text        NOT NULL,
    topic             text,
    text              text        NOT NULL,
    reply_to_tweet_id text,
    reply_to_author   text,
    policy_version    text,
    queued_at         timestamptz,
    scheduled_for     timestamptz,
    expires_at        timestamptz,
    posted_at         timestamptz,
    failed_at         timestamptz,
    fail_reason       text
);
CREATE INDEX content_recent ON content (kind, queued_at);
CREATE INDEX content_reply_to ON content (reply_to_tweet_id) WHERE reply_to_tweet_id IS NOT NULL;

-- Items dropped by the gates (final ContentRejected): a dropped reply's tweet is not tried again.
CREATE TABLE dropped (
    content_id text        PRIMARY KEY,
    kind       text        NOT NULL,
    gate       text        NOT NULL,
    dropped_at timestamptz NOT NULL
);

-- The budget ledger: every answered LLM call (own LlmUsageRecorded), and the days declared exhausted.
CREATE TABLE llm_usage (
    request_id        text             PRIMARY KEY,
    day               text             NOT NULL,
    model             text             NOT NULL,
    purpose           text             NOT NULL,
    prompt_tokens     integer          NOT NULL,
    completion_tokens integer          NOT NULL,
    cost_usd          double precision NOT NULL,
    content_id        text,
    recorded_at       timestamptz      NOT NULL
);
CREATE INDEX llm_usage_day ON llm_usage (day);

CREATE TABLE budget_exhausted (
    day        text             PRIMARY KEY,
    budget_usd double precision NOT NULL,
    spent_usd  double precision NOT NULL,
    at         timestamptz      NOT NULL
);
