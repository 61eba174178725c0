-- Insights. Day boundaries of reports follow the account's time zone.
ALTER TABLE accounts ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

-- Every change of a conversation's status, appended in the write that
-- makes it (with the hand-off reason when the bot passes it to people):
-- the history that reopen counts, hand-offs and containment are computed
-- from, alongside the messages.
CREATE TABLE conversation_status_changes (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT,
    at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversation_status_changes_conversation ON conversation_status_changes(conversation_id, id);
CREATE INDEX conversation_status_changes_account ON conversation_status_changes(account_id);

-- One row of facts per conversation, rewritten in every write that
-- changes the conversation or adds a message to it, and recomputed alike
-- by `ferry insights rebuild`. Days are local to the account's time zone,
-- as days since 1970-01-01.
CREATE TABLE conversation_facts (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    inbox_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    country TEXT,
    language TEXT,
    intent TEXT,
    team_id INTEGER,
    assignee_id INTEGER,
    status TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    opened_day INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_day INTEGER,
    started_with_bot INTEGER NOT NULL,
    handed_off INTEGER NOT NULL,
    handoff_reason TEXT,
    bot_contained INTEGER NOT NULL,
    reopen_count INTEGER NOT NULL,
    agent_replies INTEGER NOT NULL,
    bot_replies INTEGER NOT NULL,
    buyer_messages INTEGER NOT NULL,
    first_responder_id INTEGER,
    first_response_secs INTEGER,
    first_response_business_secs INTEGER,
    next_response_count INTEGER NOT NULL,
    next_response_secs INTEGER,
    next_response_business_secs INTEGER,
    resolution_secs INTEGER,
    resolution_business_secs INTEGER,
    csat INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversation_facts_opened ON conversation_facts(account_id, opened_day);
CREATE INDEX conversation_facts_resolved ON conversation_facts(account_id, resolved_day);

-- The values a conversation has several of (tags, SKUs of linked orders,
-- agents who replied with their reply counts), one row each.
CREATE TABLE conversation_fact_values (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    weight INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, dimension, value)
);
CREATE INDEX conversation_fact_values_account ON conversation_fact_values(account_id, dimension, value);
