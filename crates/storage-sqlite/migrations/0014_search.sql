-- Search. The embedded search index (beside the database) reads what
-- changed from this journal: every written message, contact (with its
-- identities) and conversation status appends a row, in commit order. The
-- index keeps the last row it applied as its checkpoint and deletes the rows
-- it no longer needs, so it can always catch up, and replay after a crash.
-- AUTOINCREMENT: ids are never reused once pruned.
CREATE TABLE search_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    account_id INTEGER NOT NULL,
    row_id INTEGER NOT NULL
);

CREATE TRIGGER search_message_insert AFTER INSERT ON messages BEGIN
    INSERT INTO search_changes (kind, account_id, row_id) VALUES ('message', NEW.account_id, NEW.id);
END;
CREATE TRIGGER search_message_update AFTER UPDATE OF parts ON messages BEGIN
    INSERT INTO search_changes (kind, account_id, row_id) VALUES ('message', NEW.account_id, NEW.id);
END;
CREATE TRIGGER search_message_delete AFTER DELETE ON messages BEGIN
    INSERT INTO search_changes (kind, account_id, row_id) VALUES ('message', OLD.account_id, OLD.id);
END;

CREATE TRIGGER search_contact_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO search_changes (kind, account_id, row_id) VALUES ('contact', NEW.account_id, NEW.id);
END;
CREATE TRIGGER search_contact_update AFTER UPDATE OF name, email, phone, search ON contacts BEGIN
    INSERT INTO search_changes (kind, account_id, row_id) VALUES ('contact', NEW.account_id, NEW.id);
END;
CREATE TRIGGER search_contact_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO search_changes (kind, account_id, row_id) VALUES ('contact', OLD.account_id, OLD.id);
END;

CREATE TRIGGER search_conversation_status AFTER UPDATE OF status ON conversations
WHEN OLD.status <> NEW.status BEGIN
    INSERT INTO search_changes (kind, account_id, row_id) VALUES ('conversation', NEW.account_id, NEW.id);
END;
