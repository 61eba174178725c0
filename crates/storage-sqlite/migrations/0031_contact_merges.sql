-- Merging two contacts into one: the merged contact's row stays, marked
-- with the contact it went into, so that undoing the merge gives it back
-- with its own id; its identities, conversations and surveys move to the
-- survivor. Each merge keeps what it moved and what it changed.
ALTER TABLE contacts ADD COLUMN merged_into INTEGER;
CREATE INDEX contacts_merged_into ON contacts(merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE contact_merges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    survivor_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    merged_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    merged_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    moved TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    undone_at INTEGER,
    undone_by INTEGER REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX contact_merges_survivor ON contact_merges(account_id, survivor_id, id);
CREATE INDEX contact_merges_merged ON contact_merges(merged_id);

-- Finding likely duplicates: contacts with the same name.
CREATE INDEX contacts_name ON contacts(account_id, name);
