-- Written by the jobs (not a projection): peers' posts as read, for format learning (services/harvester/formats.py).
-- Strangers' texts: purged with the other personal data after XBOT_PERSONAL_DATA_RETENTION.
CREATE TABLE peer_posts (
    tweet_id         text             PRIMARY KEY,
    text             text             NOT NULL,
    posted_at        timestamptz      NOT NULL,
    author_followers integer          NOT NULL,
    engagement       integer          NOT NULL,
    age_hours        double precision NOT NULL,
    source           text             NOT NULL,  -- "viral" (harvest) or "account" (a discovered account's recent post)
    read_at          timestamptz      NOT NULL
);
CREATE INDEX peer_posts_read ON peer_posts (read_at);
