-- The change feed: one row per committed create, update or delete of a
-- configuration record, written in the same transaction as the change.
-- Revisions are gapless and in commit order (writers hold an advisory
-- transaction lock); followers read after theirs and are woken by NOTIFY.
CREATE TABLE changes (
    revision   BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    op         TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);
