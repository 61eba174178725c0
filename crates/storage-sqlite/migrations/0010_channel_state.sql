CREATE TABLE channel_state (
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (inbox_id, key)
);
CREATE INDEX channel_state_account ON channel_state(account_id);
-- Replies and bounces refer to the Message-IDs of sent mail.
CREATE INDEX messages_outbound_external ON messages(inbox_id, external_id)
    WHERE external_id IS NOT NULL AND kind = 'outgoing';
