-- Named counters that hand out values without a race: one row per counter, bumped with an upsert
-- that returns the new value inside the caller's transaction (see src/sequences.rs). Replaces
-- choosing "MAX(column) + 1", which two concurrent transactions answer alike.
CREATE TABLE sequences (
    name        TEXT PRIMARY KEY,
    next_value  INTEGER NOT NULL                 -- the next value to hand out
);

-- Sandbox customers created before this table existed keep their simulated-network slots.
INSERT INTO sequences (name, next_value)
SELECT 'sandbox_person', sandbox_person + 1 FROM customers
WHERE sandbox_person IS NOT NULL ORDER BY sandbox_person DESC LIMIT 1;
