-- The latest FormatInsights of the harvester (one row): peers' format lifts, priors of the arms they cover.
CREATE TABLE format_insights (
    id    integer PRIMARY KEY CHECK (id = 1),
    seq   bigint  NOT NULL,
    day   text    NOT NULL,
    lifts jsonb   NOT NULL
);
