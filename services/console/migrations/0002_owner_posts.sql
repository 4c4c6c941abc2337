-- The owner's own posts (OwnerPostQueued) sit in `items` beside the planner's drafts: `source` tells them apart
-- (they carry no choice of the policy, and are approved as written).
ALTER TABLE items ADD COLUMN source text NOT NULL DEFAULT 'planner' CHECK (source IN ('planner', 'owner'));
