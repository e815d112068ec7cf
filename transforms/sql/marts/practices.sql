-- marts.practices: one row per valid logged practice of an enrolled participant; a practice logged twice
-- identically is kept once. Never free text: the exercise is one of a fixed set.
SELECT DISTINCT e.participant_id, e.started_at, e.started_date, e.exercise, e.duration_minutes,
       e.distress_before, e.distress_after, e.is_completed
FROM staging.exercises AS e
SEMI JOIN marts.participants USING (participant_id)
WHERE e.participant_id IN (SELECT participant_id FROM rebuild) AND NOT EXISTS (
    SELECT 1 FROM quality.quarantine AS q
    WHERE q.file_number = e.file_number AND q.source_row = e.source_row AND NOT q.is_resolved
)
