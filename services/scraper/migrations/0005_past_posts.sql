-- The account's posts from before xbot were read (our own PastPostsRead; a projection table, rebuilt by replay):
-- the past_posts job reads them once per handle.
CREATE TABLE past_posts_read (
    handle      text        PRIMARY KEY,
    observed_at timestamptz NOT NULL,
    posts       integer     NOT NULL
);
