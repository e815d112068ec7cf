-- One row per raw participants row, typed. `unparsed(text, value, column)` names a column whose text did
-- not parse; the rows stay here with lineage and validation decides what reaches the marts.
WITH typed AS (
    SELECT
        *,
        TRY_CAST(enrolled_date AS DATE) AS enrolled_date_value,
        TRY_CAST(ended_date AS DATE) AS ended_date_value
    FROM raw.participants
)
SELECT
    file_number,
    source_file,
    source_row,
    participant_id,
    site_id,
    cohort_id,
    modality,
    therapist_id,
    enrolled_date_value AS enrolled_date,
    ended_date_value AS ended_date,
    age_band,
    gender,
    list_filter([
        unparsed(enrolled_date, enrolled_date_value, 'enrolled_date'),
        unparsed(ended_date, ended_date_value, 'ended_date')
    ], lambda c: c IS NOT NULL) AS unparseable_columns
FROM typed
