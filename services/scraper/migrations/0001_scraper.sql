-- Every metric read of every posted item (tweet x checkpoint), from TweetPosted.
CREATE TABLE scrape_reads (
    tweet_id         text             NOT NULL,
    checkpoint       text             NOT NULL,
    content_id       text             NOT NULL,
    kind             text             NOT NULL,
    posted_at        timestamptz      NOT NULL,
    checkpoint_hours double precision NOT NULL,
    interval_hours   double precision NOT NULL,
    historical       boolean          NOT NULL,
    due_at           timestamptz      NOT NULL,
    late_at          timestamptz      NOT NULL,
    PRIMARY KEY (tweet_id, checkpoint)
);
CREATE INDEX scrape_reads_due ON scrape_reads (due_at);

-- Reads taken. A table of its own (not a column of scrape_reads) so that it is filled the same way whatever
-- order replay applies the poster's and the scraper's streams in: by the scrape job (with the outbox row,
-- one transaction) and by the projection of our own MetricsScraped.
CREATE TABLE reads_done (
    tweet_id    text        NOT NULL,
    checkpoint  text        NOT NULL,
    observed_at timestamptz NOT NULL,
    PRIMARY KEY (tweet_id, checkpoint)
);

-- Our posted items, for attribution (the head tweet of a thread stands for the thread).
CREATE TABLE own_items (
    tweet_id   text        PRIMARY KEY,
    content_id text        NOT NULL,
    kind       text        NOT NULL,
    posted_at  timestamptz NOT NULL
);
CREATE INDEX own_items_posted ON own_items (posted_at);

-- Engagement observations of our items: checkpoint reads and the reads taken at each follower snapshot.
CREATE TABLE engagement_reads (
    tweet_id    text        NOT NULL,
    observed_at timestamptz NOT NULL,
    likes       integer     NOT NULL,
    retweets    integer     NOT NULL,
    replies     integer     NOT NULL,
    views       integer     NOT NULL,
    PRIMARY KEY (tweet_id, observed_at)
);

CREATE TABLE follower_series (
    handle      text        NOT NULL,
    observed_at timestamptz NOT NULL,
    followers   integer     NOT NULL,
    following   integer     NOT NULL,
    PRIMARY KEY (handle, observed_at)
);

-- Events recorded with their cause and published after the commit; a row without published_at is sent again
-- at start and before every job run (its natural Nats-Msg-Id makes a repeat a duplicate).
CREATE TABLE outbox (
    msg_id       text        PRIMARY KEY,
    seq          bigserial   NOT NULL,
    event_type   text        NOT NULL,
    envelope     jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
