-- A queue option for transfers (agent call control): a call transferred
-- or overflowed into the queue keeps its first entry time. Keep in step
-- with postgres/migrations/0007_queue_keep_entered_at.sql.
ALTER TABLE queues ADD COLUMN keep_entered_at BOOLEAN NOT NULL DEFAULT FALSE;
