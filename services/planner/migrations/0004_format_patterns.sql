-- The strongest format patterns of the harvester's latest FormatInsights, as prompt sentences (one row).
CREATE TABLE format_patterns (
    id       integer PRIMARY KEY CHECK (id = 1),
    day      text    NOT NULL,
    patterns jsonb   NOT NULL
);
