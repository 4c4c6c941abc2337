-- Job-owned: our tweets whose Community Note the scraper has told (CommunityNoteShown), so that each is told once
-- however many later reads find the note (the outbox forgets a published event after the duplicate window).
CREATE TABLE notes_told (
    tweet_id   text        PRIMARY KEY,
    noticed_at timestamptz NOT NULL
);
