-- Drafts the owner rejected in the console (ContentRejectedByOwner, issue 22) with the reason: the planner shows
-- the recent reasons to the model as things to avoid.
CREATE TABLE owner_rejections (
    content_id  text        PRIMARY KEY,
    reason      text        NOT NULL,
    rejected_at timestamptz NOT NULL
);
