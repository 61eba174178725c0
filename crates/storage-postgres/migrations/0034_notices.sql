-- Proactive notices: the account's notices and sending limits (one
-- document), and the log of every notice decided for a buyer: sent,
-- scheduled for after their quiet hours, skipped with why, or failed.
-- The key makes each notice happen once per event (one shipped notice per
-- fulfilment, however often the shop re-delivers its webhook).
ALTER TABLE accounts ADD COLUMN notices JSONB;
CREATE TABLE notice_sends (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    contact_id BIGINT REFERENCES contacts(id) ON DELETE SET NULL,
    order_id BIGINT,
    channel TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    message_id BIGINT,
    conversation_id BIGINT,
    scheduled_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (account_id, dedup_key)
);
CREATE INDEX notice_sends_account ON notice_sends(account_id, id);
CREATE INDEX notice_sends_contact ON notice_sends(contact_id);
