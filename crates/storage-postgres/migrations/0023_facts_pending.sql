-- Conversations whose facts are to be recomputed. A write that changes a
-- conversation or adds a message to it only marks it here (once, however
-- many writes come before the refresh); the facts refresher recomputes the
-- marked conversations in batches, and every report read refreshes what is
-- still marked first, so reports never miss a committed write.
CREATE TABLE conversation_facts_pending (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    queued_at TIMESTAMPTZ NOT NULL
);
