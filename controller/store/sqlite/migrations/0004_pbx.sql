-- PBX features (R1.6, R1.7): an extension's settings (forward, DND,
-- follow-me, work number announcement) as JSON on its agent, and ring
-- groups. Keep in step with postgres/migrations/0004_pbx.sql.

ALTER TABLE agents ADD COLUMN pbx TEXT;

CREATE TABLE ring_groups (
    id           TEXT PRIMARY KEY,
    version      BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    name         TEXT NOT NULL,
    number       TEXT NOT NULL UNIQUE,
    strategy     TEXT NOT NULL,
    members      TEXT,
    ring_timeout BIGINT NOT NULL,
    no_answer    TEXT
);
