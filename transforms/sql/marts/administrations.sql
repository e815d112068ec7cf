-- marts.administrations: one row per valid questionnaire administration; an administration that arrived
-- twice with identical responses is kept once.
SELECT
    row_number() OVER (ORDER BY participant_id, instrument, completed_at) AS administration_id,
    participant_id,
    instrument,
    completed_at,
    completed_date,
    responses
FROM (
    SELECT DISTINCT participant_id, instrument, completed_at, completed_date, responses
    FROM staging.questionnaires AS s
    WHERE NOT EXISTS (
        SELECT 1 FROM quality.quarantine AS q
        WHERE q.file_number = s.file_number AND q.source_row = s.source_row AND NOT q.is_resolved
    )
)
