-- Contact profiles: what is derived about each buyer (country, language,
-- VIP standing by orders, frequent topics, last satisfaction rating),
-- rewritten in the same write as whatever changes it (a contact edit, a
-- conversation's facts, a survey answer, an order synced from the shop)
-- and recomputed for every contact by `ferry contacts profiles rebuild`.

-- The account's VIP thresholds (0 turns a rule off).
ALTER TABLE accounts ADD COLUMN vip_min_orders INTEGER NOT NULL DEFAULT 5;
ALTER TABLE accounts ADD COLUMN vip_min_spent_minor INTEGER NOT NULL DEFAULT 50000;

-- An order's total and its lines by SKU, kept beside the document so that
-- spend, SKUs bought and units sold are read without parsing documents.
ALTER TABLE shop_orders ADD COLUMN total_minor INTEGER NOT NULL DEFAULT 0;
UPDATE shop_orders SET total_minor = COALESCE(json_extract(document, '$.total_minor'), 0);
CREATE TABLE shop_order_lines (
    order_id INTEGER NOT NULL REFERENCES shop_orders(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    placed_at INTEGER NOT NULL,
    PRIMARY KEY (order_id, sku)
);
CREATE INDEX shop_order_lines_sku ON shop_order_lines(account_id, sku, placed_at);
INSERT INTO shop_order_lines (order_id, account_id, sku, quantity, placed_at)
SELECT o.id, o.account_id, trim(json_extract(li.value, '$.sku')), SUM(COALESCE(json_extract(li.value, '$.quantity'), 0)),
       o.placed_at
FROM shop_orders o, json_each(o.document, '$.line_items') li
WHERE trim(COALESCE(json_extract(li.value, '$.sku'), '')) <> ''
GROUP BY o.id, trim(json_extract(li.value, '$.sku'));

CREATE TABLE contact_profiles (
    contact_id INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    country TEXT,
    language TEXT,
    vip INTEGER NOT NULL,
    vip_by_orders INTEGER NOT NULL,
    order_count INTEGER NOT NULL,
    spent_minor INTEGER NOT NULL,
    last_order_at INTEGER,
    last_csat INTEGER,
    last_csat_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX contact_profiles_account ON contact_profiles(account_id);

-- The values a profile has several of, one row each: `topic` (with its
-- rank), `sku`, `auto` (automatic tags), `tag` (tags set by people) and
-- `attr` (custom attributes as `key=value`).
CREATE TABLE contact_profile_values (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    rank INTEGER NOT NULL,
    PRIMARY KEY (contact_id, kind, value)
);
CREATE INDEX contact_profile_values_account ON contact_profile_values(account_id, kind, value);

-- Saved segments: a named filter over contacts (see ferry_core::segment).
CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    filter TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX segments_name ON segments(account_id, name);
