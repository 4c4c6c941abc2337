-- Projection: what X did to our tweets without us, as the scraper found it, shown on the Posted page: mark 'gone'
-- (TweetGone: deleted on X itself, or removed by X) or 'noted' (CommunityNoteShown: a Community Note under it).
CREATE TABLE x_marks (
    tweet_id   text        NOT NULL,
    mark       text        NOT NULL,
    content_id text        NOT NULL,
    noticed_at timestamptz NOT NULL,
    PRIMARY KEY (tweet_id, mark)
);
