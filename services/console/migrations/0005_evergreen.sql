-- Projection tables. The planner's evergreen posts (EvergreenDrafted) and the owner's decision on each
-- (EvergreenDecided, the console's own stream): the Review page lists the undecided ones.
CREATE TABLE evergreen (
    evergreen_id text        PRIMARY KEY,
    kind         text        NOT NULL,
    parts        jsonb       NOT NULL,
    choice       jsonb       NOT NULL,
    drafted_at   timestamptz NOT NULL,
    decision     text CHECK (decision IN ('approved', 'rejected')),
    reason       text,
    decided_by   text,
    decided_at   timestamptz
);
-- The owner's decision can reach the console before the draft does (streams are read independently): kept here and
-- applied when the draft arrives.
CREATE TABLE evergreen_decided_early (
    evergreen_id text        PRIMARY KEY,
    decision     text        NOT NULL,
    reason       text,
    decided_by   text        NOT NULL,
    decided_at   timestamptz NOT NULL
);
-- An item queued from the evergreen pool (ContentQueued.evergreen_id): the approval job approves it at once when
-- the owner approved that entry (the same text).
ALTER TABLE items ADD COLUMN evergreen_id text;
