-- The owner's deletions (the console's TweetDeleted; a projection table, rebuilt by replay): their remaining
-- metric reads and the follower snapshot's reads of them stop at once, without the misses gone_tweets counts.
CREATE TABLE deleted_tweets (
    tweet_id   text        PRIMARY KEY,
    content_id text        NOT NULL,
    deleted_at timestamptz NOT NULL
);
