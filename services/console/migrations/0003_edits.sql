-- Projection tables (issue 22): every edit of the owner (ContentEdited, the console's stream) and the poster's
-- answer to it (OwnerEditSettled, the poster's stream: applied, or too late once the poster had recorded its intent
-- to post the item). Two tables rather than columns of items: each stream is read on its own, so an answer may be
-- applied before its edit.
CREATE TABLE edits (
    content_id text        NOT NULL,
    edited_at  timestamptz NOT NULL,
    parts      jsonb       NOT NULL,
    PRIMARY KEY (content_id, edited_at)
);
CREATE TABLE edit_verdicts (
    content_id text        NOT NULL,
    edited_at  timestamptz NOT NULL,
    applied    boolean     NOT NULL,
    reason     text        NOT NULL,
    settled_at timestamptz NOT NULL,
    PRIMARY KEY (content_id, edited_at)
);
