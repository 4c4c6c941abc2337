-- The poster's own outbox gives way to libs' one (event_outbox, libs/store/outbox.py). Outcomes still waiting to
-- be published move over as envelopes with their natural message ids (TweetPosted: posted:<content_id>,
-- PostFailed: failed:<content_id>), and go out at the next start.
INSERT INTO event_outbox (msg_id, event_type, envelope, recorded_at)
SELECT event_type || ':' || CASE event_type WHEN 'TweetPosted' THEN 'posted:' ELSE 'failed:' END || content_id,
       event_type,
       json_build_object('event_id', gen_random_uuid()::text, 'type', event_type, 'schema_version', 1,
                         'occurred_at', created_at, 'producer', 'poster',
                         'correlation_id', COALESCE(correlation_id, content_id), 'causation_id', causation_id,
                         'payload', payload)::text,
       created_at
FROM outbox WHERE published_at IS NULL ORDER BY id
ON CONFLICT (msg_id) DO NOTHING;
DROP TABLE outbox;
