-- The ledger: what every run did, so that stages resume, verify has history
-- and rollback knows exactly what to undo. Lives in schema supamigrate on the
-- target; created by `supamigrate` through refinery (history table
-- supamigrate.schema_history).

CREATE TABLE supamigrate.runs (
    id           text PRIMARY KEY,
    state        text NOT NULL DEFAULT 'active'
                 CHECK (state IN ('active', 'cut_over', 'rolled_back', 'abandoned')),
    source       text NOT NULL,   -- user@host:port/db, never a password
    tool_version text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
-- Only one run at a time is the one stages attach to.
CREATE UNIQUE INDEX runs_one_active ON supamigrate.runs ((true)) WHERE state = 'active';

-- Stage states as history: each change is a new row pointing at the one it
-- replaced; exactly one row per (run, stage) is current.
CREATE TABLE supamigrate.stage_states (
    id         bigserial PRIMARY KEY,
    run_id     text NOT NULL REFERENCES supamigrate.runs (id),
    stage      text NOT NULL
               CHECK (stage IN ('plan', 'schema', 'data', 'storage', 'finalize', 'verify', 'cutover', 'rollback')),
    state      text NOT NULL CHECK (state IN ('running', 'done', 'failed', 'interrupted')),
    detail     jsonb NOT NULL DEFAULT '{}',
    prev       bigint REFERENCES supamigrate.stage_states (id),
    is_current boolean NOT NULL DEFAULT true,
    at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX stage_states_current ON supamigrate.stage_states (run_id, stage) WHERE is_current;

-- One row per unit of row copy. A chunk's rows and its 'done' mark commit in
-- the same target transaction.
CREATE TABLE supamigrate.chunks (
    id          bigserial PRIMARY KEY,
    run_id      text NOT NULL REFERENCES supamigrate.runs (id),
    schema_name text NOT NULL,
    table_name  text NOT NULL,
    ordinal     integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('key_range', 'ctid_range', 'whole')),
    range_lo    jsonb,
    range_hi    jsonb,
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    rows        bigint,
    bytes       bigint,
    checksum    text,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (run_id, schema_name, table_name, ordinal)
);

-- One row per storage object copied.
CREATE TABLE supamigrate.objects (
    id            bigserial PRIMARY KEY,
    run_id        text NOT NULL REFERENCES supamigrate.runs (id),
    source_bucket text NOT NULL,
    source_key    text NOT NULL,
    target_bucket text NOT NULL,
    target_key    text NOT NULL,
    size          bigint,
    checksum      text,
    content_type  text,
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    attempts      integer NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (run_id, source_bucket, source_key)
);

-- Everything a run created or changed outside the ledger, newest undone first.
CREATE TABLE supamigrate.undo_journal (
    id         bigserial PRIMARY KEY,
    run_id     text NOT NULL REFERENCES supamigrate.runs (id),
    stage      text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('target_sql', 's3_object', 'metadata_row', 'source_sql')),
    object     text NOT NULL,
    undo       text NOT NULL,
    undone_at  timestamptz,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE supamigrate.verifications (
    id          bigserial PRIMARY KEY,
    run_id      text NOT NULL REFERENCES supamigrate.runs (id),
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    ok          boolean NOT NULL,
    report_dir  text,
    report      jsonb NOT NULL
);
