-- Posts the owner deleted from X in the console (TweetDeleted, the console's stream): never again named among the
-- account's best posts, the examples of its voice the planner shows the model.
CREATE TABLE deleted_posts (
    content_id text        PRIMARY KEY,
    deleted_at timestamptz NOT NULL
);
-- What X did to our tweets without us, as the scraper found it: mark 'gone' (TweetGone: deleted on X itself, or
-- removed by X) or 'noted' (CommunityNoteShown: readers' context under a claim they found misleading). Neither is
-- named among the best posts either.
CREATE TABLE x_marks (
    tweet_id   text        NOT NULL,
    mark       text        NOT NULL,
    content_id text        NOT NULL,
    noticed_at timestamptz NOT NULL,
    PRIMARY KEY (tweet_id, mark)
);
