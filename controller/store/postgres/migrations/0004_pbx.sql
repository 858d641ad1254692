-- PBX features (R1.6, R1.7): an extension's settings (forward, DND,
-- follow-me, work number announcement) as JSON on its agent, and ring
-- groups. Keep in step with sqlite/migrations/0004_pbx.sql.

ALTER TABLE agents ADD COLUMN pbx JSONB;

CREATE TABLE ring_groups (
    id           TEXT COLLATE "C" PRIMARY KEY,
    version      BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    name         TEXT NOT NULL,
    number       TEXT NOT NULL UNIQUE,
    strategy     TEXT NOT NULL,
    members      JSONB,
    ring_timeout BIGINT NOT NULL,
    no_answer    JSONB
);
