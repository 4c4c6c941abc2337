-- Issue 24, item 5: the tweets X gave each of our items (TweetPosted), so that a reply our post got is answered
-- with that post in view (its conversation_id is the post's first tweet).
ALTER TABLE content ADD COLUMN tweet_ids text[];
CREATE INDEX content_first_tweet ON content ((tweet_ids[1])) WHERE tweet_ids IS NOT NULL;
