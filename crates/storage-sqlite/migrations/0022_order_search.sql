-- Orders in the search index. An order's search text (its name, number,
-- buyer, SKUs, titles and tracking numbers) is journalled like messages
-- and contacts, so the embedded index finds orders too.
CREATE TRIGGER search_order_insert AFTER INSERT ON shop_orders BEGIN
    INSERT INTO search_changes (kind, account_id, row_id) VALUES ('order', NEW.account_id, NEW.id);
END;
CREATE TRIGGER search_order_update AFTER UPDATE OF search_text, document ON shop_orders BEGIN
    INSERT INTO search_changes (kind, account_id, row_id) VALUES ('order', NEW.account_id, NEW.id);
END;
CREATE TRIGGER search_order_delete AFTER DELETE ON shop_orders BEGIN
    INSERT INTO search_changes (kind, account_id, row_id) VALUES ('order', OLD.account_id, OLD.id);
END;
