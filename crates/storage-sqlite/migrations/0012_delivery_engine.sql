-- Delivery lanes: pending jobs of one lane (the deliveries to one buyer)
-- run one at a time, in the order they were enqueued.
ALTER TABLE jobs ADD COLUMN lane TEXT;
CREATE INDEX jobs_lane ON jobs(lane, id) WHERE state = 'pending' AND lane IS NOT NULL;
-- What channels report about a message after it was written (reactions,
-- edits, the message it quotes, billing), as JSON.
ALTER TABLE messages ADD COLUMN meta TEXT;
-- Deliveries waiting or failed, per account (the failed-deliveries view).
CREATE INDEX messages_undelivered ON messages(account_id, delivery_state, id)
    WHERE delivery_state IN ('queued', 'failed');
