-- Projection tables are written by projections only (runtime, second cut). The queue keeps what ContentQueued
-- carries; what the posting cycle does to an item (status, attempts counted against it, backoff, the parts on X,
-- when it was first tried, whether a read-back found it, when it ended) moves into the job-owned
-- item_progress, moved whole on replay. An item without a row there is queued and untouched.
CREATE TABLE item_progress (
    content_id       text PRIMARY KEY,
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'posted', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    not_before       timestamptz,
    -- Ids of the parts on X so far, first part first (a thread is completed from the first missing part).
    tweet_ids        jsonb NOT NULL DEFAULT '[]',
    first_attempt_at timestamptz,
    reconciled       boolean NOT NULL DEFAULT false,
    finished_at      timestamptz
);
CREATE INDEX item_progress_status ON item_progress (status);
INSERT INTO item_progress
SELECT content_id, status, attempts, not_before, tweet_ids, first_attempt_at, reconciled, finished_at FROM queue
WHERE status <> 'queued' OR attempts <> 0 OR not_before IS NOT NULL OR tweet_ids <> '[]'::jsonb
   OR first_attempt_at IS NOT NULL OR reconciled OR finished_at IS NOT NULL;
ALTER TABLE queue DROP COLUMN status, DROP COLUMN attempts, DROP COLUMN not_before, DROP COLUMN tweet_ids,
    DROP COLUMN first_attempt_at, DROP COLUMN reconciled, DROP COLUMN finished_at;
