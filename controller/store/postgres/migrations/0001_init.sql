-- Hotline configuration store, PostgreSQL dialect. Keep in step with
-- store/sqlite/migrations/0001_init.sql: same tables and columns; times are
-- timestamptz and nested values are jsonb. IDs use the "C" collation so that
-- ORDER BY id is byte order, as in SQLite and as the cursor pagination assumes.

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    version       BIGINT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    agent_id      TEXT NOT NULL,
    team          TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL
);

CREATE TABLE tokens (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX tokens_user_id ON tokens (user_id, id);
CREATE INDEX tokens_expires_at ON tokens (expires_at);

CREATE TABLE agents (
    id             TEXT COLLATE "C" PRIMARY KEY,
    version        BIGINT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    name           TEXT NOT NULL,
    extension      TEXT NOT NULL UNIQUE,
    sip_ha1_md5    TEXT NOT NULL,
    sip_ha1_sha256 TEXT NOT NULL,
    skills         JSONB,
    team           TEXT NOT NULL,
    mobile_number  TEXT NOT NULL,
    disabled       BOOLEAN NOT NULL
);

CREATE TABLE skills (
    id          TEXT COLLATE "C" PRIMARY KEY,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL
);

CREATE TABLE queues (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    version              BIGINT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    name                 TEXT NOT NULL UNIQUE,
    strategy             TEXT NOT NULL,
    members              JSONB,
    required_skills      JSONB,
    priority             BIGINT NOT NULL,
    ring_timeout         BIGINT NOT NULL,
    wrap_up              BIGINT NOT NULL,
    max_wait             BIGINT NOT NULL,
    max_length           BIGINT NOT NULL,
    no_answer_limit      BIGINT NOT NULL,
    join_when_no_agents  BOOLEAN NOT NULL,
    leave_when_no_agents BOOLEAN NOT NULL,
    overflow             JSONB,
    music_on_hold        TEXT NOT NULL,
    announcements        JSONB,
    recording            JSONB
);

CREATE TABLE numbers (
    id          TEXT COLLATE "C" PRIMARY KEY,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    number      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    route       JSONB,
    schedule_id TEXT NOT NULL,
    after_hours JSONB,
    greeting    TEXT NOT NULL
);

CREATE TABLE trunks (
    id                TEXT COLLATE "C" PRIMARY KEY,
    version           BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    name              TEXT NOT NULL UNIQUE,
    host              TEXT NOT NULL,
    port              BIGINT NOT NULL,
    transport         TEXT NOT NULL,
    username          TEXT NOT NULL,
    password          TEXT NOT NULL,
    register          BOOLEAN NOT NULL,
    priority          BIGINT NOT NULL,
    inbound_addresses JSONB,
    caller_id         TEXT NOT NULL,
    max_channels      BIGINT NOT NULL,
    enabled           BOOLEAN NOT NULL
);

CREATE TABLE schedules (
    id               TEXT COLLATE "C" PRIMARY KEY,
    version          BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    name             TEXT NOT NULL UNIQUE,
    time_zone        TEXT NOT NULL,
    weekly           JSONB,
    holidays         JSONB,
    extra_workdays   JSONB,
    extra_workday_as BIGINT NOT NULL
);

CREATE TABLE list_entries (
    id         TEXT COLLATE "C" PRIMARY KEY,
    version    BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    list_kind  TEXT NOT NULL,
    pattern    TEXT NOT NULL,
    match_kind TEXT NOT NULL,
    target     JSONB,
    note       TEXT NOT NULL,
    expires_at TIMESTAMPTZ,
    UNIQUE (list_kind, pattern, match_kind)
);

CREATE TABLE audit_log (
    id          TEXT COLLATE "C" PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL,
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
