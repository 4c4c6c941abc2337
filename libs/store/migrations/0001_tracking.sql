-- Position of each projection consumer in each stream, written in the same transaction as the effects it
-- records: an event at or below it has been applied and is skipped on redelivery.
CREATE TABLE tracking (
    consumer   text   NOT NULL,
    stream     text   NOT NULL,
    stream_seq bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, stream)
);
