CREATE TABLE queued (
    content_id text PRIMARY KEY,
    topic      text NOT NULL,
    seq        bigint NOT NULL
);
-- Written by "jobs" only: a replay moves them over whole.
CREATE TABLE notes (
    id   bigserial PRIMARY KEY,
    text text NOT NULL
);
CREATE TABLE reviews (
    content_id text PRIMARY KEY
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
