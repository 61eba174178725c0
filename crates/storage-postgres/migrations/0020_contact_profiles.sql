-- Contact profiles: what is derived about each buyer (country, language,
-- VIP standing by orders, frequent topics, last satisfaction rating),
-- rewritten in the same write as whatever changes it (a contact edit, a
-- conversation's facts, a survey answer, an order synced from the shop)
-- and recomputed for every contact by `ferry contacts profiles rebuild`.

-- The account's VIP thresholds (0 turns a rule off).
ALTER TABLE accounts ADD COLUMN vip_min_orders BIGINT NOT NULL DEFAULT 5;
ALTER TABLE accounts ADD COLUMN vip_min_spent_minor BIGINT NOT NULL DEFAULT 50000;

-- An order's total and its lines by SKU, kept beside the document so that
-- spend, SKUs bought and units sold are read without parsing documents.
ALTER TABLE shop_orders ADD COLUMN total_minor BIGINT NOT NULL DEFAULT 0;
UPDATE shop_orders SET total_minor = COALESCE((document->>'total_minor')::BIGINT, 0);
CREATE TABLE shop_order_lines (
    order_id BIGINT NOT NULL REFERENCES shop_orders(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    placed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (order_id, sku)
);
CREATE INDEX shop_order_lines_sku ON shop_order_lines(account_id, sku, placed_at);
INSERT INTO shop_order_lines (order_id, account_id, sku, quantity, placed_at)
SELECT o.id, o.account_id, trim(li->>'sku'), SUM(COALESCE((li->>'quantity')::BIGINT, 0)), o.placed_at
FROM shop_orders o, jsonb_array_elements(COALESCE(o.document->'line_items', '[]'::jsonb)) li
WHERE trim(COALESCE(li->>'sku', '')) <> ''
GROUP BY o.id, o.account_id, trim(li->>'sku'), o.placed_at;

CREATE TABLE contact_profiles (
    contact_id BIGINT PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    country TEXT,
    language TEXT,
    vip BOOLEAN NOT NULL,
    vip_by_orders BOOLEAN NOT NULL,
    order_count BIGINT NOT NULL,
    spent_minor BIGINT NOT NULL,
    last_order_at TIMESTAMPTZ,
    last_csat BIGINT,
    last_csat_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX contact_profiles_account ON contact_profiles(account_id);

-- The values a profile has several of, one row each: `topic` (with its
-- rank), `sku`, `auto` (automatic tags), `tag` (tags set by people) and
-- `attr` (custom attributes as `key=value`).
CREATE TABLE contact_profile_values (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    rank BIGINT NOT NULL,
    PRIMARY KEY (contact_id, kind, value)
);
CREATE INDEX contact_profile_values_account ON contact_profile_values(account_id, kind, value);

-- Saved segments: a named filter over contacts (see ferry_core::segment).
CREATE TABLE segments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    filter JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX segments_name ON segments(account_id, name);
