-- Issue 24, item 5: the replies our replies get are read too (people answer a reply of ours under someone else's
-- tweet). own_posts now holds our replies beside our posts: reply_to is the tweet a reply of ours answered (the
-- X API searches that conversation), NULL for a post.
ALTER TABLE own_posts ADD COLUMN reply_to text;
