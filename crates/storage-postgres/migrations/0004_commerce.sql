CREATE TABLE shop_connections (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    name TEXT NOT NULL,
    shop_domain TEXT NOT NULL,
    secret TEXT NOT NULL,
    api_url TEXT,
    access_token TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX shop_connections_account ON shop_connections(account_id);
CREATE TABLE shop_webhooks (
    connection_id BIGINT NOT NULL REFERENCES shop_connections(id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connection_id, webhook_id)
);
CREATE TABLE shop_orders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    connection_id BIGINT NOT NULL REFERENCES shop_connections(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    number TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    search_text TEXT NOT NULL,
    source_updated_at TIMESTAMPTZ NOT NULL,
    placed_at TIMESTAMPTZ NOT NULL,
    document JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX shop_orders_external ON shop_orders(connection_id, external_id);
CREATE INDEX shop_orders_number ON shop_orders(account_id, number);
CREATE INDEX shop_orders_email ON shop_orders(account_id, email);
CREATE INDEX shop_orders_phone ON shop_orders(account_id, phone);
CREATE INDEX shop_orders_placed ON shop_orders(account_id, placed_at);
CREATE TABLE shop_fulfillments (
    connection_id BIGINT NOT NULL REFERENCES shop_connections(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    order_external_id TEXT NOT NULL,
    source_updated_at TIMESTAMPTZ NOT NULL,
    document JSONB NOT NULL,
    PRIMARY KEY (connection_id, external_id)
);
CREATE INDEX shop_fulfillments_order ON shop_fulfillments(connection_id, order_external_id);
CREATE TABLE shop_refunds (
    connection_id BIGINT NOT NULL REFERENCES shop_connections(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    order_external_id TEXT NOT NULL,
    document JSONB NOT NULL,
    PRIMARY KEY (connection_id, external_id)
);
CREATE INDEX shop_refunds_order ON shop_refunds(connection_id, order_external_id);
CREATE TABLE shop_products (
    connection_id BIGINT NOT NULL REFERENCES shop_connections(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    title TEXT NOT NULL,
    source_updated_at TIMESTAMPTZ NOT NULL,
    document JSONB NOT NULL,
    PRIMARY KEY (connection_id, external_id)
);
CREATE TABLE shop_inventory (
    connection_id BIGINT NOT NULL REFERENCES shop_connections(id) ON DELETE CASCADE,
    inventory_item_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    available BIGINT NOT NULL,
    source_updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connection_id, inventory_item_id, location_id)
);
CREATE TABLE shop_customers (
    connection_id BIGINT NOT NULL REFERENCES shop_connections(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    source_updated_at TIMESTAMPTZ NOT NULL,
    document JSONB NOT NULL,
    PRIMARY KEY (connection_id, external_id)
);
