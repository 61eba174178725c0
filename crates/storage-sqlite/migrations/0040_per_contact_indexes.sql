-- One buyer's rows, found without reading the account's: their
-- conversations newest first (the contact panel, notices, campaigns),
-- consents and stops.
CREATE INDEX conversations_contact_activity ON conversations(account_id, contact_id, last_activity_at DESC, id DESC);
CREATE INDEX contact_consents_contact ON contact_consents(account_id, contact_id, channel);
CREATE INDEX contact_channel_opt_outs_contact ON contact_channel_opt_outs(account_id, contact_id, channel);
