-- Profile visits of a metric read (MetricsScraped.profile_clicks): the heavy ranker weighs a visit 12, as much as a
-- reply, and visits are where a follow starts. NULL when the read could not see them; the reward then counts none.
ALTER TABLE metric_reads ADD COLUMN profile_clicks integer;
