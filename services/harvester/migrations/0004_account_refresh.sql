-- Our own AccountRefreshed: when a discovered account was last read again (its followers and engagement rate are
-- then the refreshed ones).
ALTER TABLE accounts ADD COLUMN refreshed_at timestamptz;
