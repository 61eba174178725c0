-- Proactive notices: the account's notices and sending limits (one
-- document), and the log of every notice decided for a buyer: sent,
-- scheduled for after their quiet hours, skipped with why, or failed.
-- The key makes each notice happen once per event (one shipped notice per
-- fulfilment, however often the shop re-delivers its webhook).
ALTER TABLE accounts ADD COLUMN notices TEXT;
CREATE TABLE notice_sends (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    order_id INTEGER,
    channel TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    message_id INTEGER,
    conversation_id INTEGER,
    scheduled_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (account_id, dedup_key)
);
CREATE INDEX notice_sends_account ON notice_sends(account_id, id);
CREATE INDEX notice_sends_contact ON notice_sends(contact_id);
