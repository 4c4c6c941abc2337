-- Learned replies (issue 24): a reply's draw as the planner logged it (ContentQueued.reply_context: the target's
-- bands, the candidates' bands, the target's index), what the reply policy's off-policy gate needs. NULL for posts
-- and for replies of planners before it (the reply policy does not learn from those).
ALTER TABLE decisions ADD COLUMN reply_context json;
