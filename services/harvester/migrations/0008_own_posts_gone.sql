-- Job-owned: our posts and replies the conversations job found gone from X (their status page missing: deleted in
-- the console, on X itself, or removed by X). Their replies are not read again: X shows none, and each read would
-- cost the activity budget a page for nothing.
CREATE TABLE own_posts_gone (
    tweet_id   text        PRIMARY KEY,
    noticed_at timestamptz NOT NULL
);
