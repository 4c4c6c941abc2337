-- Issue 21 (calls per queued item): the content type of each queued post, so a plan run knows which (content
-- type, topic) pairs the duplicate window already holds (services/planner/choices.allowed_pairs).
ALTER TABLE content ADD COLUMN content_type text;
