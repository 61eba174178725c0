CREATE TABLE shop_sync_state (
    connection_id BIGINT NOT NULL REFERENCES shop_connections(id) ON DELETE CASCADE,
    resource TEXT NOT NULL,
    cursor TEXT,
    done BOOLEAN NOT NULL DEFAULT false,
    fetched BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connection_id, resource)
);
