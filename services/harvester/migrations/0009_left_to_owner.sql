-- Replies to our tweets left for the owner to read (ReplyLeftToOwner: a person in a crisis), projected from the
-- harvester's own stream so that a reply is left, counted and alerted on once, not at every read of its
-- conversation. Forgotten with the harvested tweets (PersonalDataPurged).
CREATE TABLE left_to_owner (
    tweet_id        text        PRIMARY KEY,
    conversation_id text        NOT NULL,
    found_at        timestamptz NOT NULL
);
