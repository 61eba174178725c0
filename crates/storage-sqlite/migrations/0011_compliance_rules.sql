CREATE TABLE compliance_rules (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    rules TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
