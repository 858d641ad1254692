-- An agent's phone may answer offers by itself (auto-answer, R4.1): the
-- offer's INVITE then asks for it (Answer-Mode: Auto).
ALTER TABLE agents ADD COLUMN auto_answer BOOLEAN NOT NULL DEFAULT FALSE;
