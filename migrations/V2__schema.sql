-- The schema stage's records: post-data statements (indexes, constraints,
-- foreign keys, triggers, policies) kept for finalize, and every change the
-- rewrite made, for verify's report.

CREATE TABLE supamigrate.post_data (
    id         bigserial PRIMARY KEY,
    run_id     text NOT NULL REFERENCES supamigrate.runs (id),
    ordinal    integer NOT NULL,   -- dump order; apply in this order within a kind
    kind       text NOT NULL
               CHECK (kind IN ('index', 'constraint', 'foreign_key', 'trigger', 'policy', 'other')),
    object     text,
    sql        text NOT NULL,
    state      text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    applied_at timestamptz,
    UNIQUE (run_id, ordinal)
);

CREATE TABLE supamigrate.schema_changes (
    id       bigserial PRIMARY KEY,
    run_id   text NOT NULL REFERENCES supamigrate.runs (id),
    rule     text NOT NULL,
    reason   text NOT NULL,
    action   text NOT NULL CHECK (action IN ('dropped', 'changed', 'added')),
    object   text,
    original text,
    new      text
);
