-- Projection: our tweets the scraper found gone from X without the console (TweetGone: deleted on X itself, or
-- removed by X), shown on the Posted page so the owner sees what X no longer shows.
CREATE TABLE gone (
    tweet_id   text        PRIMARY KEY,
    content_id text        NOT NULL,
    noticed_at timestamptz NOT NULL
);
