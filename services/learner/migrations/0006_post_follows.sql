-- The accounts that followed from a post, as X counts them for its author (MetricsScraped.follows: the web's
-- analytics page, "New followers"). Where a post has them, the learner credits it with them instead of its share
-- of the follower count's changes (follower_attribution). NULL when the read could not see them.
ALTER TABLE metric_reads ADD COLUMN follows integer;
