-- Orders in search: parts of an order's search text (its name, number,
-- buyer, SKUs, titles and tracking numbers) through a trigram index.
CREATE INDEX shop_orders_trigram ON shop_orders USING gin (search_text gin_trgm_ops);
