-- The owner's decisions on evergreen posts (EvergreenDecided, from the console): a rejected entry is never queued,
-- and with approval on (XBOT_APPROVAL) only approved entries are. A projection of the console's stream, rebuilt by a
-- replay; the pool itself (evergreen) stays job-owned.
CREATE TABLE evergreen_decisions (
    evergreen_id text        PRIMARY KEY,
    decision     text        NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reason       text,
    decided_by   text        NOT NULL,
    decided_at   timestamptz NOT NULL
);
