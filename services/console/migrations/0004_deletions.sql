-- Issue 22, the owner's deletions and dead-letter actions.

-- Projection: every part's id of a posted item (TweetPosted; a thread is deleted part by part). Rows posted
-- before this migration get their ids back from `xbot replay console`; until then a deletion uses the first id.
ALTER TABLE items ADD COLUMN tweet_ids jsonb;
ALTER TABLE outcomes_early ADD COLUMN tweet_ids jsonb;
-- Projection: the owner's deletions (TweetDeleted). A table of its own rather than columns of `items`: the
-- console's stream may be read before the planner's (each stream on its own), and a deletion must not be lost.
CREATE TABLE deletions (
    content_id text        PRIMARY KEY,
    tweet_ids  jsonb       NOT NULL,
    deleted_by text        NOT NULL,
    deleted_at timestamptz NOT NULL
);

-- Job-owned: every Retry and Drop of a dead letter made in the console, who and when, and how it ended.
CREATE TABLE dead_letter_log (
    id      bigserial   PRIMARY KEY,
    action  text        NOT NULL CHECK (action IN ('retry', 'drop')),
    dlq_seq bigint      NOT NULL,
    service text        NOT NULL,
    subject text        NOT NULL,
    by      text        NOT NULL,
    outcome text        NOT NULL,
    at      timestamptz NOT NULL
);
