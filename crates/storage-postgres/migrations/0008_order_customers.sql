-- Orders link to contacts through the shop's customer record too: an order
-- placed with another e-mail still belongs to the customer whose e-mail or
-- phone is the contact's.
ALTER TABLE shop_orders ADD COLUMN customer_external_id TEXT;
UPDATE shop_orders SET customer_external_id = document->>'customer_external_id';
CREATE INDEX shop_orders_customer ON shop_orders(connection_id, customer_external_id);
CREATE INDEX shop_customers_email ON shop_customers(email);
CREATE INDEX shop_customers_phone ON shop_customers(phone);
