-- marts.administrations: one row per valid questionnaire administration. Copies of an administration that
-- arrived more than once have identical responses here (conflicting copies are quarantined), so the first
-- copy to arrive is kept; its lineage gives a stable administration_id.
SELECT
    (CAST(file_number AS BIGINT) << 32) + source_row AS administration_id,
    participant_id,
    instrument,
    completed_at,
    completed_date,
    responses
FROM staging.questionnaires AS s
WHERE s.participant_id IN (SELECT participant_id FROM rebuild) AND NOT EXISTS (
    SELECT 1 FROM quality.quarantine AS q
    WHERE q.file_number = s.file_number AND q.source_row = s.source_row AND NOT q.is_resolved
)
QUALIFY row_number() OVER (PARTITION BY participant_id, instrument, completed_at ORDER BY file_number, source_row) = 1
