-- The transactional outbox (libs/store/outbox.py): a job records the events it emits in its own transaction,
-- and the runtime publishes them after the commit (and again at start for rows a crash left). The message id is
-- the event's natural key, so a row published twice is dropped by the stream's duplicate window. A row keeps the
-- stream position its PubAck named (what read-your-writes waits for), and is pruned once published and past the
-- duplicate window.
CREATE TABLE event_outbox (
    seq          bigserial PRIMARY KEY,
    msg_id       text NOT NULL,
    event_type   text NOT NULL,
    envelope     text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    stream       text,
    stream_seq   bigint
);
-- One row per fact: recording an event whose natural key is already waiting or recently published does nothing.
CREATE UNIQUE INDEX event_outbox_msg_id ON event_outbox (msg_id);
CREATE INDEX event_outbox_unpublished ON event_outbox (seq) WHERE published_at IS NULL;
