-- What the call path writes and the reports read (CDRs, the queue and agent
-- event log, recordings' metadata) and two more configuration aggregates
-- (contacts, IVR flows). Keep in step with postgres/migrations/0003_records.sql.
-- Records keep their searchable fields as columns and the whole record as
-- JSON text in data (text, not jsonb: a record reads back byte for byte);
-- writes are upserts (by id, or by seq for events) so a
-- replay from the spool is harmless.

CREATE TABLE cdrs (
    id         TEXT PRIMARY KEY,
    start_at   TEXT NOT NULL,
    caller     TEXT NOT NULL,
    called     TEXT NOT NULL,
    queue      TEXT NOT NULL,
    agent_id   TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX cdrs_start ON cdrs (start_at, id);
CREATE INDEX cdrs_caller ON cdrs (caller, start_at);
CREATE INDEX cdrs_agent ON cdrs (agent_id, start_at);

-- seq is assigned at insert (the last + 1, under a lock on PostgreSQL), so
-- it ascends in commit order; (source, pos) is the journal's idempotency key
-- (pos is NULL for events written without one).
CREATE TABLE queue_events (
    seq        BIGINT PRIMARY KEY,
    source     TEXT NOT NULL,
    pos        BIGINT,
    at         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    call_id    TEXT NOT NULL,
    queue      TEXT NOT NULL,
    agent_id   TEXT NOT NULL,
    data       TEXT NOT NULL,
    UNIQUE (source, pos)
);
CREATE INDEX queue_events_at ON queue_events (at);

CREATE TABLE recordings (
    id         TEXT PRIMARY KEY,
    call_id    TEXT NOT NULL,
    start_at   TEXT NOT NULL,
    duration   REAL NOT NULL,
    caller     TEXT NOT NULL,
    called     TEXT NOT NULL,
    agent_id   TEXT NOT NULL,
    queue      TEXT NOT NULL,
    path       TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX recordings_start ON recordings (start_at, id);
CREATE INDEX recordings_call ON recordings (call_id);

CREATE TABLE contacts (
    id         TEXT PRIMARY KEY,
    version    BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    name       TEXT NOT NULL,
    numbers    TEXT,
    company    TEXT NOT NULL,
    notes      TEXT NOT NULL,
    fields     TEXT
);

-- A number belongs to at most one contact; written with the contact.
CREATE TABLE contact_numbers (
    number     TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL
);
CREATE INDEX contact_numbers_contact ON contact_numbers (contact_id);

-- The flow document is kept as the text that was saved.
CREATE TABLE ivr_flows (
    id         TEXT PRIMARY KEY,
    version    BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    flow       TEXT NOT NULL
);
