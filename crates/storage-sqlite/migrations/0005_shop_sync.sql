CREATE TABLE shop_sync_state (
    connection_id INTEGER NOT NULL REFERENCES shop_connections(id) ON DELETE CASCADE,
    resource TEXT NOT NULL,
    cursor TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    fetched INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (connection_id, resource)
);
