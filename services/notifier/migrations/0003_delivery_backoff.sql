-- When a channel that failed a notice is tried again: the delay doubles with each failure (notices.retry_delay),
-- so an outage of hours is waited out instead of being spent in a few quick tries. NULL: due at once.
ALTER TABLE deliveries ADD COLUMN next_try_at timestamptz;
