-- The learner's tables: every one a deterministic function of the events (replay rebuilds them exactly).
-- ``seq`` columns hold the event's position in its producer's stream: the order the model is built in, the
-- same live and in replay whatever order the streams are interleaved in.

-- Decision log: every ContentQueued (replies too; the post policy learns from posts only). Never dropped.
CREATE TABLE decisions (
    content_id     text             PRIMARY KEY,
    seq            bigint           NOT NULL,
    kind           text             NOT NULL,
    choice         json             NOT NULL,
    policy_version text             NOT NULL,
    propensity     double precision NOT NULL,
    text           text             NOT NULL,
    queued_at      timestamptz      NOT NULL
);
CREATE INDEX decisions_seq ON decisions (seq);

-- What the poster posted: content id <-> tweet ids (head first) and when.
CREATE TABLE posts (
    content_id text        PRIMARY KEY,
    tweet_ids  text[]      NOT NULL,
    kind       text        NOT NULL,
    posted_at  timestamptz NOT NULL
);

-- Metric reads per tweet and checkpoint (the first read of a checkpoint is the one that counts).
CREATE TABLE metric_reads (
    tweet_id         text             NOT NULL,
    checkpoint       text             NOT NULL,
    content_id       text             NOT NULL,
    seq              bigint           NOT NULL,
    checkpoint_hours double precision NOT NULL,
    likes            integer          NOT NULL,
    retweets         integer          NOT NULL,
    replies          integer          NOT NULL,
    views            integer          NOT NULL,
    bookmarks        integer          NOT NULL,
    observed_at      timestamptz      NOT NULL,
    PRIMARY KEY (tweet_id, checkpoint)
);
CREATE INDEX metric_reads_content ON metric_reads (content_id);

-- Followers the scraper attributed to each item at each snapshot (they add up over snapshots).
CREATE TABLE follower_attribution (
    snapshot    text             NOT NULL,
    content_id  text             NOT NULL,
    tweet_id    text             NOT NULL,
    seq         bigint           NOT NULL,
    followers   double precision NOT NULL,
    observed_at timestamptz      NOT NULL,
    PRIMARY KEY (snapshot, content_id, tweet_id)
);

-- Every ModelUpdated published (our own stream): the last one is the policy in force, the history is what a
-- rollback walks back through. ``payload`` is the event's JSON as published (text, so it reads back bit for bit).
CREATE TABLE models (
    seq            bigint      PRIMARY KEY,
    version        text        NOT NULL UNIQUE,
    parent_version text,
    rollback_of    text,
    training_size  integer     NOT NULL,
    created_at     timestamptz NOT NULL,
    payload        json        NOT NULL
);
