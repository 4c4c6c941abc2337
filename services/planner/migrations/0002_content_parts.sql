-- Each tweet of an item (a thread's parts one by one): X refuses any tweet whose text repeats one of ours
-- ("Whoops! You already said that."), and a refused later part leaves a half-posted thread on the account, so
-- the duplicate gate compares every part, not the joined text. NULL for rows known only from TweetPosted.
ALTER TABLE content ADD COLUMN parts text[];
