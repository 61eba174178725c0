-- Machine translation for agents: the account's provider (its kind, base
-- URL and key, and whether buyers' messages are translated as they come).
ALTER TABLE accounts ADD COLUMN translation JSONB;
