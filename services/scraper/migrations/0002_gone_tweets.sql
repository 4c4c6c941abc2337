-- Own tweets whose status page says they no longer exist (deleted on X). Written by the scrape job, not by an
-- event, so a replay keeps it (Service.keep_on_replay). After GONE_AFTER_MISSES misses in a row a tweet's
-- remaining reads are dropped: otherwise they stay "missed" for ever, head every run and push real reads back.
CREATE TABLE gone_tweets (
    tweet_id   text        PRIMARY KEY,
    misses     integer     NOT NULL,
    noticed_at timestamptz NOT NULL
);
