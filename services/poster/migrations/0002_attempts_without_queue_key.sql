-- A replay rebuilds the queue in a new schema and moves attempts over whole (Service.keep_on_replay): a foreign
-- key from attempts to the old queue would be dropped with it, so none is declared. Attempts are only ever
-- written for a queue row, in the same transaction that reads it.
ALTER TABLE attempts DROP CONSTRAINT IF EXISTS attempts_content_id_fkey;
