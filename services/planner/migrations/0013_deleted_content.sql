-- Items the owner deleted from X in the console (TweetDeleted, the console's stream): replies under them are no
-- longer answered, and they are never shown to the model as an example of the account's voice.
CREATE TABLE deleted_content (
    content_id text        PRIMARY KEY,
    tweet_ids  text[]      NOT NULL,
    deleted_at timestamptz NOT NULL
);
-- Our tweets the scraper found gone from X though nobody deleted them in the console (TweetGone: the owner deleted
-- them on X itself, or X removed them): the same as a deletion for the two uses above.
CREATE TABLE gone_tweets (
    tweet_id   text        PRIMARY KEY,
    content_id text        NOT NULL,
    noticed_at timestamptz NOT NULL
);
