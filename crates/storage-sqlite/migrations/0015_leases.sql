-- Scheduled work runs once per interval across nodes: whoever takes the
-- lease runs it.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    runs INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- Settings of the installation rather than of an account (what the demo
-- seeded, so every node of a shared store serves the same demo).
CREATE TABLE installation_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
