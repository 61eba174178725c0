-- A buyer's consent to marketing, per channel (or "all"), with where it
-- came from (a checkout box, the widget, an agent who was told) and when.
-- Transactional notices do not need it; marketing does where the account
-- requires consent. Stops (an SMS STOP) stay in contact_channel_opt_outs
-- and win over any consent.
CREATE TABLE contact_consents (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    granted INTEGER NOT NULL,
    source TEXT NOT NULL,
    recorded_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (contact_id, channel)
);
CREATE INDEX contact_consents_account ON contact_consents(account_id, channel, granted);
