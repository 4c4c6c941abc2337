-- Issue 24, item 5: an opportunity that is a reply our own post got carries that post's id (its conversation).
ALTER TABLE opportunities ADD COLUMN conversation_id text;
