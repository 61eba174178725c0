CREATE TABLE compliance_rules (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    rules JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
