-- Campaigns: a message to a saved segment, sent at a controlled rate.
-- Each recipient is a row of the notice send log (kind `campaign`, key
-- `campaign:{id}:{contact}`), so a campaign resumed after a crash plans
-- nobody twice, and its figures come from the same log as the notices'.
-- `ticked_at` is how far the campaign has used its rate (a token bucket
-- kept in the row, so every node keeps the same pace). `marketing` marks the sends the weekly frequency cap counts.
CREATE TABLE campaigns (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    segment_id BIGINT REFERENCES segments(id) ON DELETE SET NULL,
    definition TEXT NOT NULL,
    state TEXT NOT NULL,
    send_at TIMESTAMPTZ,
    cursor BIGINT,
    planned BIGINT NOT NULL DEFAULT 0,
    planning_done BOOLEAN NOT NULL DEFAULT FALSE,
    created_by BIGINT,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    ticked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX campaigns_account ON campaigns(account_id, id);
ALTER TABLE notice_sends ADD COLUMN campaign_id BIGINT REFERENCES campaigns(id) ON DELETE CASCADE;
ALTER TABLE notice_sends ADD COLUMN marketing BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX notice_sends_campaign ON notice_sends(campaign_id, state, scheduled_at);
CREATE INDEX notice_sends_marketing ON notice_sends(contact_id, marketing, scheduled_at);
