-- Projection: our tweets the owner deleted in the console (TweetDeleted, read through a durable filtered on that
-- event of the console's stream): their replies are not read again. The X API's search cannot tell a deleted
-- tweet from one without replies (the browser's missing status page can: own_posts_gone), so without this every
-- read of one cost the activity budget a search for nothing until the conversations window passed.
CREATE TABLE deleted_own_posts (
    tweet_id   text        PRIMARY KEY,
    deleted_at timestamptz NOT NULL
);
