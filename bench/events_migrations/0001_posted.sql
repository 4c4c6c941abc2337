CREATE TABLE posted (content_id text PRIMARY KEY, tweet_id text NOT NULL, seq bigint NOT NULL);
