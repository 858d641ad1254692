-- Voicemail boxes and messages (R2.5, R9.1) and the post-call survey flag
-- of queues and numbers (R2.6). Keep in step with
-- postgres/migrations/0006_voicemail.sql.

CREATE TABLE voicemail_boxes (
    id         TEXT PRIMARY KEY,
    version    BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    owner_kind TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    pin        TEXT NOT NULL,
    greeting   TEXT,
    email      TEXT NOT NULL,
    language   TEXT NOT NULL
);

-- call_id is unique: a call leaves at most one message (idempotent write).
CREATE TABLE voicemail_messages (
    id           TEXT PRIMARY KEY,
    version      BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    box_id       TEXT NOT NULL,
    call_id      TEXT NOT NULL UNIQUE,
    caller       TEXT NOT NULL,
    called       TEXT NOT NULL,
    at           TEXT NOT NULL,
    duration     REAL NOT NULL,
    recording_id TEXT NOT NULL,
    path         TEXT NOT NULL,
    bytes        BIGINT NOT NULL,
    state        TEXT NOT NULL
);
CREATE INDEX voicemail_messages_box ON voicemail_messages (box_id, id);

ALTER TABLE queues ADD COLUMN survey BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE numbers ADD COLUMN survey BOOLEAN NOT NULL DEFAULT FALSE;
