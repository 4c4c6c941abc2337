-- The account's risk level as the browser gateway holds and publishes it (AccountRiskChanged, issue 18): the
-- poster follows this one level instead of keeping its own. A projection table: written by the projection only.
CREATE TABLE account_risk (
    handle      text PRIMARY KEY,
    level       integer NOT NULL CHECK (level BETWEEN 0 AND 4),
    level_name  text NOT NULL,
    signal      text,
    changed_at  timestamptz NOT NULL
);
