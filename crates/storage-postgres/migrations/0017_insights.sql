-- Insights. Day boundaries of reports follow the account's time zone.
ALTER TABLE accounts ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

-- Every change of a conversation's status, appended in the write that
-- makes it (with the hand-off reason when the bot passes it to people):
-- the history that reopen counts, hand-offs and containment are computed
-- from, alongside the messages.
CREATE TABLE conversation_status_changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT,
    at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX conversation_status_changes_conversation ON conversation_status_changes(conversation_id, id);
CREATE INDEX conversation_status_changes_account ON conversation_status_changes(account_id);

-- One row of facts per conversation, rewritten in every write that
-- changes the conversation or adds a message to it, and recomputed alike
-- by `ferry insights rebuild`. Days are local to the account's time zone,
-- as days since 1970-01-01.
CREATE TABLE conversation_facts (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    inbox_id BIGINT NOT NULL,
    channel TEXT NOT NULL,
    country TEXT,
    language TEXT,
    intent TEXT,
    team_id BIGINT,
    assignee_id BIGINT,
    status TEXT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    opened_day BIGINT NOT NULL,
    resolved_at TIMESTAMPTZ,
    resolved_day BIGINT,
    started_with_bot BOOLEAN NOT NULL,
    handed_off BOOLEAN NOT NULL,
    handoff_reason TEXT,
    bot_contained BOOLEAN NOT NULL,
    reopen_count BIGINT NOT NULL,
    agent_replies BIGINT NOT NULL,
    bot_replies BIGINT NOT NULL,
    buyer_messages BIGINT NOT NULL,
    first_responder_id BIGINT,
    first_response_secs BIGINT,
    first_response_business_secs BIGINT,
    next_response_count BIGINT NOT NULL,
    next_response_secs BIGINT,
    next_response_business_secs BIGINT,
    resolution_secs BIGINT,
    resolution_business_secs BIGINT,
    csat BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX conversation_facts_opened ON conversation_facts(account_id, opened_day);
CREATE INDEX conversation_facts_resolved ON conversation_facts(account_id, resolved_day);

-- The values a conversation has several of (tags, SKUs of linked orders,
-- agents who replied with their reply counts), one row each.
CREATE TABLE conversation_fact_values (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    weight BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (conversation_id, dimension, value)
);
CREATE INDEX conversation_fact_values_account ON conversation_fact_values(account_id, dimension, value);
