-- Daily rollups of the conversation facts: per local day, dimension
-- ('all' for every conversation) and value (keyed false when unset), the
-- counters and durations the overview, agents and hand-off reports add
-- up. Kept current in the same write as the facts (the difference between
-- a conversation's old and new contribution) and recomputed by
-- `ferry insights rebuild`. Durations are value→count multisets as text
-- (`60,600*3`), so percentiles stay exact.
CREATE TABLE insight_rollups (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    dimension TEXT NOT NULL,
    keyed BOOLEAN NOT NULL,
    value TEXT NOT NULL,
    day BIGINT NOT NULL,
    opened BIGINT NOT NULL DEFAULT 0,
    reopened BIGINT NOT NULL DEFAULT 0,
    bot_started BIGINT NOT NULL DEFAULT 0,
    bot_contained BIGINT NOT NULL DEFAULT 0,
    handed_off BIGINT NOT NULL DEFAULT 0,
    agent_replies BIGINT NOT NULL DEFAULT 0,
    weight BIGINT NOT NULL DEFAULT 0,
    resolved BIGINT NOT NULL DEFAULT 0,
    rated BIGINT NOT NULL DEFAULT 0,
    rating_sum BIGINT NOT NULL DEFAULT 0,
    satisfied BIGINT NOT NULL DEFAULT 0,
    first_response TEXT NOT NULL DEFAULT '',
    first_response_business TEXT NOT NULL DEFAULT '',
    next_response TEXT NOT NULL DEFAULT '',
    next_response_business TEXT NOT NULL DEFAULT '',
    first_own TEXT NOT NULL DEFAULT '',
    first_own_business TEXT NOT NULL DEFAULT '',
    resolution TEXT NOT NULL DEFAULT '',
    resolution_business TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, dimension, day, keyed, value)
);

-- Accounts whose facts were written before the rollups existed: `ferry
-- serve` rebuilds their insights once in the background (as `ferry
-- insights rebuild --account` would) and clears the mark.
ALTER TABLE accounts ADD COLUMN rollups_pending BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE accounts SET rollups_pending = TRUE
WHERE EXISTS (SELECT 1 FROM conversation_facts f WHERE f.account_id = accounts.id);
