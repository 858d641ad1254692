-- Conference rooms (R9.2). Keep in step with
-- postgres/migrations/0005_conferences.sql.
CREATE TABLE conferences (
    id            TEXT PRIMARY KEY,
    version       BIGINT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    name          TEXT NOT NULL,
    number        TEXT NOT NULL UNIQUE,
    pin           TEXT NOT NULL,
    moderator_pin TEXT NOT NULL,
    max_parties   BIGINT NOT NULL,
    record        BOOLEAN NOT NULL
);
