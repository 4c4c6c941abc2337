-- A quote post's quoted post (OpportunityFound.quoted_author, quoted_text): a reply to it is written and judged
-- beside what it quotes. Purged with its row (PersonalDataPurged).
ALTER TABLE opportunities ADD COLUMN quoted_author text, ADD COLUMN quoted_text text;
