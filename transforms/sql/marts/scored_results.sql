-- marts.scored_results: one row per valid pre-scored result (the `scores` dataset), duplicates kept once.
SELECT DISTINCT participant_id, instrument, subscale, completed_at, completed_date, score
FROM staging.scores AS s
WHERE s.participant_id IN (SELECT participant_id FROM rebuild) AND NOT EXISTS (
    SELECT 1 FROM quality.quarantine AS q
    WHERE q.file_number = s.file_number AND q.source_row = s.source_row AND NOT q.is_resolved
)
