-- The change feed: one row per committed create, update or delete of a
-- configuration record, written in the same transaction as the change.
-- Revisions are gapless and in commit order; followers read after theirs.
CREATE TABLE changes (
    revision   BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    op         TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
