-- The owner's word from the console (issue 22), projected from the console's stream: rollbacks asked for
-- (ModelRollbackRequested: the model job rolls back while that version is in force) and drafts the owner rejected
-- (ContentRejectedByOwner: a signal about the choice that made them, kept with its reason).
CREATE TABLE rollback_requests (
    version      text        PRIMARY KEY,
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL
);
CREATE TABLE owner_rejections (
    content_id  text        PRIMARY KEY,
    reason      text        NOT NULL,
    rejected_at timestamptz NOT NULL
);
