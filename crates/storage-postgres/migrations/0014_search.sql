-- Search. PostgreSQL searches its own tables: full text over the 'simple'
-- configuration (no stemming, any language) for whole words, and trigram
-- indexes for parts of words, scripts written without spaces (Chinese,
-- Japanese) and contacts' e-mails and phone numbers.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX messages_fulltext ON messages USING gin (to_tsvector('simple', search_text));
CREATE INDEX messages_trigram ON messages USING gin (search_text gin_trgm_ops);
CREATE INDEX contacts_trigram ON contacts USING gin (search gin_trgm_ops);

-- The embedded (SQLite) index's change journal. Nothing writes it here:
-- PostgreSQL's search needs none; the table keeps both schemas alike.
CREATE TABLE search_changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    row_id BIGINT NOT NULL
);
