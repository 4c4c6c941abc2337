-- Projection tables are written by projections only (runtime, second cut). Two things move out of them:
--
-- 1. The follower snapshot's reads of active items carry no event: they move from engagement_reads (which now
--    holds only what MetricsScraped carries) into the job-owned active_reads. A row of engagement_reads that no
--    done checkpoint read explains (same tweet, same instant) was such a read.
CREATE TABLE active_reads (
    tweet_id    text        NOT NULL,
    observed_at timestamptz NOT NULL,
    likes       integer     NOT NULL,
    retweets    integer     NOT NULL,
    replies     integer     NOT NULL,
    views       integer     NOT NULL,
    PRIMARY KEY (tweet_id, observed_at)
);
INSERT INTO active_reads
SELECT e.* FROM engagement_reads e
WHERE NOT EXISTS (SELECT 1 FROM reads_done d WHERE d.tweet_id = e.tweet_id AND d.observed_at = e.observed_at);
DELETE FROM engagement_reads e
WHERE NOT EXISTS (SELECT 1 FROM reads_done d WHERE d.tweet_id = e.tweet_id AND d.observed_at = e.observed_at);

-- 2. The scraper's own outbox gives way to libs' one (event_outbox): what was waiting to be published moves
--    over with its envelope and message id, and is published at the next start.
INSERT INTO event_outbox (msg_id, event_type, envelope, recorded_at)
SELECT msg_id, event_type, envelope::text, recorded_at FROM outbox WHERE published_at IS NULL ORDER BY seq
ON CONFLICT (msg_id) DO NOTHING;
DROP TABLE outbox;
