-- Back in stock: a buyer asks to hear when a variant can be bought again
-- (from the widget, an agent on their behalf, or because they asked about
-- it while it was out). One open request per buyer and variant; it is
-- closed when the notice is decided.
CREATE TABLE stock_subscriptions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    connection_id BIGINT NOT NULL REFERENCES shop_connections(id) ON DELETE CASCADE,
    product_external_id TEXT NOT NULL,
    variant_external_id TEXT NOT NULL,
    sku TEXT,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    notified_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX stock_subscriptions_open ON stock_subscriptions(account_id, contact_id, connection_id, variant_external_id) WHERE notified_at IS NULL;
CREATE INDEX stock_subscriptions_waiting ON stock_subscriptions(account_id, connection_id) WHERE notified_at IS NULL;
