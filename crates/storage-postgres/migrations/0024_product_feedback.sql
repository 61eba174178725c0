-- Product feedback: which conversations are about a defect, per account.
-- A conversation is one when a tag of it is one of `defect_tags`, or its
-- intent one of `defect_intents` (JSON arrays of lower-case names,
-- compared without regard to case). No intent by default: `complaint`
-- also covers late parcels and service, so an account opts in to it.
-- The reads use the indexes the facts and order lines already have
-- (facts by opened day, fact values by SKU, order lines by SKU and date).
ALTER TABLE accounts ADD COLUMN defect_tags TEXT NOT NULL
    DEFAULT '["broken","damaged","defect","not_as_described","wrong_item"]';
ALTER TABLE accounts ADD COLUMN defect_intents TEXT NOT NULL DEFAULT '[]';
