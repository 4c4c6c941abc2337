-- Projection: our tweets the scraper found gone from X (TweetGone, read through a durable filtered on that event of
-- the scraper's stream): their replies are not read again. The browser's conversations read finds a missing
-- status page itself (own_posts_gone); the X API's search cannot tell a deleted tweet from one without replies,
-- so without this a tweet deleted on X cost a search at every read until the conversations window passed. The
-- same rows as the planner's and the learner's x_marks (libs/store/x_marks.py); only 'gone' is read here.
CREATE TABLE x_marks (
    tweet_id   text        NOT NULL,
    mark       text        NOT NULL,
    content_id text        NOT NULL,
    noticed_at timestamptz NOT NULL,
    PRIMARY KEY (tweet_id, mark)
);
