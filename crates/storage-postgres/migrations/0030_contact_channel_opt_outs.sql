-- A buyer's "stop" on one channel (an SMS STOP, STOPALL, UNSUBSCRIBE…):
-- while a row is opted out, nothing is sent to the contact on that
-- channel; START (or YES, UNSTOP) opts back in and keeps the row.
CREATE TABLE contact_channel_opt_outs (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    opted_out BOOLEAN NOT NULL,
    keyword TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (contact_id, channel)
);
CREATE INDEX contact_channel_opt_outs_account ON contact_channel_opt_outs(account_id, channel, opted_out);
