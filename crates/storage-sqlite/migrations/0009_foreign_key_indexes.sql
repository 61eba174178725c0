-- Indexes on the foreign keys that had none, so deleting a user, an inbox,
-- a team or a shop connection (and the cascades and SET NULLs that follow)
-- reads an index instead of whole tables; and the index the audit log's
-- listing reads.
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE INDEX team_members_user ON team_members(user_id);
CREATE INDEX conversations_inbox ON conversations(inbox_id);
CREATE INDEX conversations_assignee ON conversations(assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX conversations_team ON conversations(team_id) WHERE team_id IS NOT NULL;
CREATE INDEX alerts_connection ON alerts(connection_id);
CREATE INDEX alerts_acknowledged_by ON alerts(acknowledged_by) WHERE acknowledged_by IS NOT NULL;
CREATE INDEX alerts_resolved_by ON alerts(resolved_by) WHERE resolved_by IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log(actor_id) WHERE actor_id IS NOT NULL;
-- The audit log is read newest first by id, per account.
CREATE INDEX audit_log_account_id ON audit_log(account_id, id);
