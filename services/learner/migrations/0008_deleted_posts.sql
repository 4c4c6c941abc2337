-- Posts the owner deleted from X in the console (TweetDeleted, the console's stream): never again named among the
-- account's best posts, the examples of its voice the planner shows the model.
CREATE TABLE deleted_posts (
    content_id text        PRIMARY KEY,
    deleted_at timestamptz NOT NULL
);
-- Our tweets the scraper found gone from X though nobody deleted them in the console (TweetGone: deleted on X
-- itself, or removed by X): the same as a deletion here.
CREATE TABLE gone_tweets (
    tweet_id   text        PRIMARY KEY,
    content_id text        NOT NULL,
    noticed_at timestamptz NOT NULL
);
