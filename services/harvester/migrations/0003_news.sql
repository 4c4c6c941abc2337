-- Our own NewsItemFound: the news items already published (an item is published once).
CREATE TABLE news_items (
    item_id      text        PRIMARY KEY,
    source       text        NOT NULL,
    title        text        NOT NULL,
    url          text        NOT NULL,
    published_at timestamptz NOT NULL,
    found_at     timestamptz NOT NULL
);
