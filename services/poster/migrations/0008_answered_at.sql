-- When the gateway answered an attempt's error. A `timeout` the gateway answered (X's "Something went wrong", an
-- op over its time limit, which the gateway cancels before answering) leaves nothing running at the gateway: its
-- read-back waits only for X's own delay (XBOT_READBACK_SETTLE_REAL) from this moment, not for the whole grace
-- a request nobody answered needs. NULL for attempts recorded before it: they keep the grace.
ALTER TABLE attempts ADD COLUMN answered_at timestamptz;
