-- Custom roles: an account's own sets of permissions, given to users in
-- place of their built-in role's. Retention: how long an account keeps
-- conversations and attachments (NULL keeps them).
CREATE TABLE custom_roles (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    permissions JSONB NOT NULL DEFAULT '[]',
    refund_limit_minor BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX custom_roles_name ON custom_roles (account_id, name);
ALTER TABLE users ADD COLUMN custom_role_id BIGINT REFERENCES custom_roles(id) ON DELETE SET NULL;
CREATE INDEX users_custom_role ON users (custom_role_id);
ALTER TABLE accounts ADD COLUMN retention_conversation_days INTEGER;
ALTER TABLE accounts ADD COLUMN retention_attachment_days INTEGER;
