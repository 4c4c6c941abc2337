CREATE TABLE queued (
    content_id text PRIMARY KEY,
    topic      text NOT NULL,
    seq        bigint NOT NULL,
    reviewed   boolean NOT NULL DEFAULT false  -- set by a "job", not by an event: survives a replay by merging
);
-- Written by a "job" only: a replay moves it over whole.
CREATE TABLE notes (
    id   bigserial PRIMARY KEY,
    text text NOT NULL
);
CREATE TABLE topic_counts (
    topic text PRIMARY KEY,
    n     int NOT NULL
);
-- Every application of an event appends here: a double application shows up as two rows.
CREATE TABLE applications (
    content_id text NOT NULL,
    seq        bigint NOT NULL
);
