-- Journeys: a short sequence of steps (a `ferry_core::journey::Journey`)
-- buyers go through once enrolled — by a shop event, a person, or a
-- segment at once. Each enrolment is one buyer's place in it (entered once
-- per entry key), moved on by a job at its next moment; its sends are rows
-- of the notice send log (kind `journey`, key `journey:{enrolment}:{step}`),
-- so each step sends at most once and the figures come from one log.
CREATE TABLE journeys (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    state TEXT NOT NULL,
    trigger_event TEXT,
    created_by BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX journeys_account ON journeys(account_id, id);
CREATE INDEX journeys_event ON journeys(account_id, trigger_event, state);
CREATE TABLE journey_enrolments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    journey_id BIGINT NOT NULL REFERENCES journeys(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    entry_key TEXT NOT NULL,
    order_id BIGINT,
    step BIGINT NOT NULL DEFAULT 0,
    until TIMESTAMPTZ,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    awaiting_reply BOOLEAN NOT NULL DEFAULT FALSE,
    outcome TEXT,
    entered_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (account_id, journey_id, entry_key)
);
CREATE INDEX journey_enrolments_journey ON journey_enrolments(journey_id, done, step);
CREATE INDEX journey_enrolments_reply ON journey_enrolments(account_id, contact_id) WHERE awaiting_reply;
ALTER TABLE notice_sends ADD COLUMN journey_id BIGINT REFERENCES journeys(id) ON DELETE CASCADE;
CREATE INDEX notice_sends_journey ON notice_sends(journey_id, state);
