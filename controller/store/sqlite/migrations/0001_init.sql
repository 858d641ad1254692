-- Hotline configuration store, SQLite dialect. Keep in step with
-- store/postgres/migrations/0001_init.sql: same tables and columns; times are
-- TEXT in sqlstore.TextTimeLayout (fixed width, so text order is time order)
-- and nested values are JSON text.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    version       BIGINT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    agent_id      TEXT NOT NULL,
    team          TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL
);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX tokens_user_id ON tokens (user_id, id);
CREATE INDEX tokens_expires_at ON tokens (expires_at);

CREATE TABLE agents (
    id             TEXT PRIMARY KEY,
    version        BIGINT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    name           TEXT NOT NULL,
    extension      TEXT NOT NULL UNIQUE,
    sip_ha1_md5    TEXT NOT NULL,
    sip_ha1_sha256 TEXT NOT NULL,
    skills         TEXT,
    team           TEXT NOT NULL,
    mobile_number  TEXT NOT NULL,
    disabled       BOOLEAN NOT NULL
);

CREATE TABLE skills (
    id          TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL
);

CREATE TABLE queues (
    id                   TEXT PRIMARY KEY,
    version              BIGINT NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    name                 TEXT NOT NULL UNIQUE,
    strategy             TEXT NOT NULL,
    members              TEXT,
    required_skills      TEXT,
    priority             BIGINT NOT NULL,
    ring_timeout         BIGINT NOT NULL,
    wrap_up              BIGINT NOT NULL,
    max_wait             BIGINT NOT NULL,
    max_length           BIGINT NOT NULL,
    no_answer_limit      BIGINT NOT NULL,
    join_when_no_agents  BOOLEAN NOT NULL,
    leave_when_no_agents BOOLEAN NOT NULL,
    overflow             TEXT,
    music_on_hold        TEXT NOT NULL,
    announcements        TEXT,
    recording            TEXT
);

CREATE TABLE numbers (
    id          TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    number      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    route       TEXT,
    schedule_id TEXT NOT NULL,
    after_hours TEXT,
    greeting    TEXT NOT NULL
);

CREATE TABLE trunks (
    id                TEXT PRIMARY KEY,
    version           BIGINT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    name              TEXT NOT NULL UNIQUE,
    host              TEXT NOT NULL,
    port              BIGINT NOT NULL,
    transport         TEXT NOT NULL,
    username          TEXT NOT NULL,
    password          TEXT NOT NULL,
    register          BOOLEAN NOT NULL,
    priority          BIGINT NOT NULL,
    inbound_addresses TEXT,
    caller_id         TEXT NOT NULL,
    max_channels      BIGINT NOT NULL,
    enabled           BOOLEAN NOT NULL
);

CREATE TABLE schedules (
    id               TEXT PRIMARY KEY,
    version          BIGINT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    name             TEXT NOT NULL UNIQUE,
    time_zone        TEXT NOT NULL,
    weekly           TEXT,
    holidays         TEXT,
    extra_workdays   TEXT,
    extra_workday_as BIGINT NOT NULL
);

CREATE TABLE list_entries (
    id         TEXT PRIMARY KEY,
    version    BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    list_kind  TEXT NOT NULL,
    pattern    TEXT NOT NULL,
    match_kind TEXT NOT NULL,
    target     TEXT,
    note       TEXT NOT NULL,
    expires_at TEXT,
    UNIQUE (list_kind, pattern, match_kind)
);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    occurred_at TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    username    TEXT NOT NULL,
    action      TEXT NOT NULL,
    resource    TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    remote      TEXT NOT NULL,
    result      BIGINT NOT NULL,
    detail      TEXT NOT NULL,
    request_id  TEXT NOT NULL
);
-- Listings run newest first by id, filtered by user, resource or time.
CREATE INDEX audit_log_user ON audit_log (user_id, id);
CREATE INDEX audit_log_resource ON audit_log (resource, id);
CREATE INDEX audit_log_occurred_at ON audit_log (occurred_at);
