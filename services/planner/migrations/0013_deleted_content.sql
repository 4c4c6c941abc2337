-- Items the owner deleted from X in the console (TweetDeleted, the console's stream): replies under them are no
-- longer answered, and they are never shown to the model as an example of the account's voice.
CREATE TABLE deleted_content (
    content_id text        PRIMARY KEY,
    tweet_ids  text[]      NOT NULL,
    deleted_at timestamptz NOT NULL
);
