-- Items the owner deleted from X in the console (TweetDeleted, the console's stream): replies under them are no
-- longer answered, and they are never shown to the model as an example of the account's voice.
CREATE TABLE deleted_content (
    content_id text        PRIMARY KEY,
    tweet_ids  text[]      NOT NULL,
    deleted_at timestamptz NOT NULL
);
-- What X did to our tweets without us, as the scraper found it: mark 'gone' (TweetGone: deleted on X itself, or
-- removed by X; the same as a deletion for both uses above) or 'noted' (CommunityNoteShown: readers' context under
-- a claim they found misleading; never an example of the voice, its conversation goes on).
CREATE TABLE x_marks (
    tweet_id   text        NOT NULL,
    mark       text        NOT NULL,
    content_id text        NOT NULL,
    noticed_at timestamptz NOT NULL,
    PRIMARY KEY (tweet_id, mark)
);
