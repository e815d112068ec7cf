-- marts.participants: one row per participant, from the latest valid row (a later file replaces an earlier one).
SELECT participant_id, site_id, cohort_id, modality, therapist_id, enrolled_date, ended_date, age_band, gender
FROM staging.participants AS p
WHERE p.participant_id IN (SELECT participant_id FROM rebuild) AND NOT EXISTS (
    SELECT 1 FROM quality.quarantine AS q
    WHERE q.file_number = p.file_number AND q.source_row = p.source_row AND NOT q.is_resolved
)
QUALIFY row_number() OVER (PARTITION BY participant_id ORDER BY file_number DESC, source_row DESC) = 1
