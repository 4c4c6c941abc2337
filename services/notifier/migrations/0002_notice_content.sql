-- The posted item a notice is about (TweetGone, CommunityNoteShown): its link (posts.url) is added when the
-- notice is sent, since the poster's TweetPosted and the scraper's news arrive on streams read apart.
ALTER TABLE notices ADD COLUMN content_id text;
