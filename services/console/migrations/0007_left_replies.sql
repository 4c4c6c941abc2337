-- Projection: replies to our tweets the harvester left for the owner to read (ReplyLeftToOwner: a person in a
-- crisis), read through filtered durables on the harvester's stream (its other events hold strangers' tweets, which
-- the console never reads); the owner's dismissals (ReplyLeftDismissed, its own stream); the personal data
-- retention's cuts (PersonalDataPurged: rows found before the latest cut are forgotten, and one arriving after its
-- cut on the other durable is not kept).
CREATE TABLE left_replies (
    tweet_id         text        PRIMARY KEY,
    author           text        NOT NULL,
    conversation_id  text        NOT NULL,
    reason           text        NOT NULL,
    tweet_created_at timestamptz NOT NULL,
    found_at         timestamptz NOT NULL
);
CREATE TABLE left_replies_dismissed (
    tweet_id     text        PRIMARY KEY,
    dismissed_by text        NOT NULL,
    dismissed_at timestamptz NOT NULL,
    verdict      text        NOT NULL CHECK (verdict IN ('seen_to', 'not_a_crisis'))
);
CREATE TABLE personal_data_cut (
    id     integer     PRIMARY KEY CHECK (id = 1),
    before timestamptz NOT NULL
);
