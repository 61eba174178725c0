-- Custom roles: an account's own sets of permissions, given to users in
-- place of their built-in role's. Retention: how long an account keeps
-- conversations and attachments (NULL keeps them).
CREATE TABLE custom_roles (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '[]',
    refund_limit_minor INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX custom_roles_name ON custom_roles (account_id, name);
ALTER TABLE users ADD COLUMN custom_role_id INTEGER REFERENCES custom_roles(id) ON DELETE SET NULL;
CREATE INDEX users_custom_role ON users (custom_role_id);
ALTER TABLE accounts ADD COLUMN retention_conversation_days INTEGER;
ALTER TABLE accounts ADD COLUMN retention_attachment_days INTEGER;
