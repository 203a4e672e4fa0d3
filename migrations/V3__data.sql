-- The data and finalize stages' additions to the ledger.

-- The key a key_range chunk was cut on (names and format_type, in index
-- order), so that resume and verify read the same ranges without guessing,
-- and a note for the operator (e.g. why a ctid-split table restarted whole).
ALTER TABLE supamigrate.chunks
    ADD COLUMN key_columns text[],
    ADD COLUMN key_types   text[],
    ADD COLUMN note        text;

-- One row per finalize step (index, constraint, sequence value, ...): a step
-- is recorded done in the same target transaction that ran it, so a rerun
-- skips exactly the finished ones.
CREATE TABLE supamigrate.finalize_steps (
    id         bigserial PRIMARY KEY,
    run_id     text NOT NULL REFERENCES supamigrate.runs (id),
    kind       text NOT NULL,
    object     text NOT NULL,
    sql        text NOT NULL,
    state      text NOT NULL DEFAULT 'done' CHECK (state IN ('done')),
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (run_id, kind, object)
);

-- Source sequence values read right after the data snapshot was exported:
-- every row the snapshot holds got its value before then, so these values
-- are never behind the copied rows. finalize applies them.
CREATE TABLE supamigrate.sequence_values (
    run_id        text NOT NULL REFERENCES supamigrate.runs (id),
    schema_name   text NOT NULL,
    sequence_name text NOT NULL,
    last_value    bigint NOT NULL,
    is_called     boolean NOT NULL,
    read_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, schema_name, sequence_name)
);
