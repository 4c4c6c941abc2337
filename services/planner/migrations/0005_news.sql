-- The harvester's NewsItemFound: fresh news of the niche a post may take as its angle; used_by is the post that
-- took it (our own ContentQueued.angle), so an item is an angle once.
CREATE TABLE news (
    item_id      text        PRIMARY KEY,
    title        text        NOT NULL,
    summary      text        NOT NULL,
    source       text        NOT NULL,
    url          text        NOT NULL,
    published_at timestamptz NOT NULL,
    topic        text,
    used_by      text
);
CREATE INDEX news_unused ON news (topic, published_at) WHERE used_by IS NULL;
