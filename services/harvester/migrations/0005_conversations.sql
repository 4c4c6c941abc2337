-- Issue 24, item 5: replies our own posts got become opportunities of source "conversation".
-- The post of ours whose conversation an opportunity is in (NULL for a stranger's tweet).
ALTER TABLE opportunities ADD COLUMN conversation_id text;
CREATE INDEX opportunities_conversation ON opportunities (conversation_id) WHERE conversation_id IS NOT NULL;

-- Our own posts (TweetPosted of kind post/thread: the first part), whose replies the conversations job reads.
CREATE TABLE own_posts (
    tweet_id  text        PRIMARY KEY,
    posted_at timestamptz NOT NULL
);

-- The conversations job's cursor: when each post's replies were last read (job-owned).
CREATE TABLE conversation_reads (
    tweet_id text        PRIMARY KEY,
    read_at  timestamptz NOT NULL
);
