-- The owner's decisions in the console (issue 22), projected from the console's stream: ContentApproved (with the
-- text as approved, edits included) and ContentRejectedByOwner. With approval on (XBOT_APPROVAL), an item waits
-- for a row here before it is posted; a rejected one fails as "rejected".
CREATE TABLE owner_decisions (
    content_id text PRIMARY KEY,
    decision   text NOT NULL CHECK (decision IN ('approved', 'rejected')),
    parts      jsonb,
    reason     text,
    decided_at timestamptz NOT NULL
);
