-- An answer in our own conversation names the post of ours it is under (ContentQueued.conversation_id); the
-- tweets the owner deleted in the console (TweetDeleted) withdraw the answers still queued under them.
ALTER TABLE queue ADD COLUMN conversation_id text;
CREATE TABLE deleted_tweets (
    tweet_id   text PRIMARY KEY,
    deleted_at timestamptz NOT NULL
);
