-- Our own AccountRefreshed with gone: X showed no account at a discovered handle (suspended, deactivated,
-- renamed); it is never due for a refresh again.
ALTER TABLE accounts ADD COLUMN gone_at timestamptz;
