-- Satisfaction surveys: one per resolved conversation, answered through a
-- page keyed by a random token (stored as its SHA-256). message_id is the
-- survey message once it is posted; until then a retried job issues a new
-- token and posts it.
CREATE TABLE csat_surveys (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL UNIQUE REFERENCES conversations(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    inbox_id INTEGER NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
    agent_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    token_hash TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    scale TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    rating INTEGER,
    comment TEXT,
    message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    answered_at INTEGER
);
CREATE INDEX csat_surveys_contact ON csat_surveys (account_id, contact_id, sent_at);
CREATE INDEX csat_surveys_sent ON csat_surveys (account_id, sent_at);
CREATE INDEX csat_surveys_agent ON csat_surveys (agent_id);
CREATE INDEX csat_surveys_inbox ON csat_surveys (inbox_id);
CREATE INDEX csat_surveys_message ON csat_surveys (message_id);
