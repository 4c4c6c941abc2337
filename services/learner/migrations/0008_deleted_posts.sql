-- Posts the owner deleted from X in the console (TweetDeleted, the console's stream): never again named among the
-- account's best posts, the examples of its voice the planner shows the model.
CREATE TABLE deleted_posts (
    content_id text        PRIMARY KEY,
    deleted_at timestamptz NOT NULL
);
