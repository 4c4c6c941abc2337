-- The owner's edits in the console (issue 22). owner_edits is projected from ContentEdited; edit_verdicts is the
-- posting cycle's (job-owned): before each decision it settles every edit not settled yet, applied when the item
-- has no intent recorded (it is then posted with the latest applied edit's text), too late otherwise. The cycle
-- is the only writer of intents, so an edit and a write never race.
CREATE TABLE owner_edits (
    content_id text        NOT NULL,
    edited_at  timestamptz NOT NULL,
    parts      jsonb       NOT NULL,
    PRIMARY KEY (content_id, edited_at)
);
CREATE TABLE edit_verdicts (
    content_id text        NOT NULL,
    edited_at  timestamptz NOT NULL,
    applied    boolean     NOT NULL,
    settled_at timestamptz NOT NULL,
    PRIMARY KEY (content_id, edited_at)
);
