-- The account's own posts from before xbot (the scraper's PastPostsRead): the posts' model starts from them.
CREATE TABLE past_posts (
    tweet_id   text        PRIMARY KEY,
    seq        bigint      NOT NULL,
    text       text        NOT NULL,
    created_at timestamptz NOT NULL,
    likes      integer     NOT NULL,
    retweets   integer     NOT NULL,
    replies    integer     NOT NULL,
    views      integer     NOT NULL
);
