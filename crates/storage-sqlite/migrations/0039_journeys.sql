-- Journeys: a short sequence of steps (a `ferry_core::journey::Journey`)
-- buyers go through once enrolled — by a shop event, a person, or a
-- segment at once. Each enrolment is one buyer's place in it (entered once
-- per entry key), moved on by a job at its next moment; its sends are rows
-- of the notice send log (kind `journey`, key `journey:{enrolment}:{step}`),
-- so each step sends at most once and the figures come from one log.
CREATE TABLE journeys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    state TEXT NOT NULL,
    trigger_event TEXT,
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX journeys_account ON journeys(account_id, id);
CREATE INDEX journeys_event ON journeys(account_id, trigger_event, state);
CREATE TABLE journey_enrolments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    journey_id INTEGER NOT NULL REFERENCES journeys(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    entry_key TEXT NOT NULL,
    order_id INTEGER,
    step INTEGER NOT NULL DEFAULT 0,
    until INTEGER,
    done INTEGER NOT NULL DEFAULT 0,
    awaiting_reply INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    entered_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (account_id, journey_id, entry_key)
);
CREATE INDEX journey_enrolments_journey ON journey_enrolments(journey_id, done, step);
CREATE INDEX journey_enrolments_reply ON journey_enrolments(account_id, contact_id) WHERE awaiting_reply = 1;
ALTER TABLE notice_sends ADD COLUMN journey_id INTEGER REFERENCES journeys(id) ON DELETE CASCADE;
CREATE INDEX notice_sends_journey ON notice_sends(journey_id, state);
