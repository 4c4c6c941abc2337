-- Projection: our tweets the scraper found gone from X (TweetGone, read through a durable filtered on that event of
-- the scraper's stream: the owner deleted it on X itself, or X removed it). Like the console's deletions
-- (deleted_tweets) they withdraw the answers still queued under them. The same rows as the planner's and the
-- learner's x_marks (libs/store/x_marks.py); only 'gone' is read here.
CREATE TABLE x_marks (
    tweet_id   text        NOT NULL,
    mark       text        NOT NULL,
    content_id text        NOT NULL,
    noticed_at timestamptz NOT NULL,
    PRIMARY KEY (tweet_id, mark)
);
