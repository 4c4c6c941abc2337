-- Every opportunity ever found (our own OpportunityFound); the pool is the ones not expired.
CREATE TABLE opportunities (
    tweet_id         text             PRIMARY KEY,
    author           text             NOT NULL,
    author_followers integer          NOT NULL,
    text             text             NOT NULL,
    likes            integer          NOT NULL,
    retweets         integer          NOT NULL,
    replies          integer          NOT NULL,
    views            integer          NOT NULL,
    tweet_created_at timestamptz      NOT NULL,
    relevance        double precision NOT NULL,
    topic            text,
    source           text             NOT NULL,
    found_at         timestamptz      NOT NULL,
    expired_at       timestamptz,
    expiry_reason    text
);
CREATE INDEX opportunities_pool ON opportunities (tweet_created_at) WHERE expired_at IS NULL;

-- Tweets our replies answered (poster's TweetPosted, kind reply). Its own table because the poster's and the
-- harvester's streams are applied independently: a reply may be projected before the opportunity is.
CREATE TABLE replied (
    tweet_id   text        PRIMARY KEY,
    replied_at timestamptz NOT NULL
);

-- Our own AccountDiscovered.
CREATE TABLE accounts (
    handle          text             PRIMARY KEY,
    followers       integer          NOT NULL,
    engagement_rate double precision NOT NULL,
    relevance       double precision NOT NULL,
    bio             text             NOT NULL,
    discovered_at   timestamptz      NOT NULL
);

-- Written by the jobs (not a projection): a replay drops them and they fill again.
-- Author profiles read through the gateway; search cards do not show follower counts.
CREATE TABLE author_profiles (
    handle    text        PRIMARY KEY,
    followers integer     NOT NULL,
    bio       text        NOT NULL,
    read_at   timestamptz NOT NULL
);

-- One row per search query (keyed without its moving since: operator): when it last ran, what it returned.
CREATE TABLE query_state (
    key        text        NOT NULL,
    last_query text        NOT NULL,
    tab        text        NOT NULL,
    topic      text        NOT NULL,
    last_run   timestamptz NOT NULL,
    results    integer     NOT NULL,
    failures   integer     NOT NULL DEFAULT 0,
    last_error text,
    PRIMARY KEY (key, tab)
);

-- should_harvest's hysteresis flag and the last pool check position, across restarts.
CREATE TABLE harvest_state (
    key   text  PRIMARY KEY,
    value jsonb NOT NULL
);

-- When each pooled tweet was last checked for deletion (job-written).
CREATE TABLE deletion_checks (
    tweet_id   text        PRIMARY KEY,
    checked_at timestamptz NOT NULL
);
