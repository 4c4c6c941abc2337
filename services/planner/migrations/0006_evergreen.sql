-- Evergreen posts: drafted ahead through every gate while the budget allows, queued only while the model cannot
-- be used (unreachable, halted, the day's budget spent). Written by the plan job, not by a projection: no event
-- carries an evergreen draft until it is queued, so the table is job-owned and a replay carries it over whole.
CREATE TABLE evergreen (
    content_hash text        PRIMARY KEY,
    kind         text        NOT NULL,
    parts        text[]      NOT NULL,
    choice       jsonb       NOT NULL,
    propensity   double precision NOT NULL,
    model        text        NOT NULL,
    drafted_at   timestamptz NOT NULL,
    -- When it was last queued: not again within the duplicate window.
    used_at      timestamptz
);
