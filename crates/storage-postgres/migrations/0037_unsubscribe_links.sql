-- One-click unsubscribe (RFC 8058): every marketing e-mail carries a link
-- whose token is kept only as its SHA-256; using it stops the buyer's
-- e-mail for the account.
CREATE TABLE unsubscribe_links (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX unsubscribe_links_contact ON unsubscribe_links(contact_id);
