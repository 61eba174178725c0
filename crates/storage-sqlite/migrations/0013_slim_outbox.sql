-- The outbox keeps the ids of what an event is about, not the rendered
-- records, and its rows are deleted soon after they are published: the
-- published rows kept until now go, and so does the index by account
-- (the outbox stays small, so counting or cascading reads it whole, and
-- every event no longer writes that index). Rows written before keep
-- their whole event and are still read.
DELETE FROM outbox WHERE published_at IS NOT NULL;
DROP INDEX outbox_account;
