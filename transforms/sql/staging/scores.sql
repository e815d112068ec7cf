-- One row per raw pre-scored result, typed; a missing subscale means the instrument's total.
WITH typed AS (
    SELECT
        *,
        TRY_CAST(upper(completed_at) AS TIMESTAMPTZ) AS completed_at_value,
        TRY_CAST(score AS DOUBLE) AS score_value
    FROM raw.scores
)
SELECT
    file_number,
    source_file,
    source_row,
    participant_id,
    instrument,
    coalesce(subscale, 'total') AS subscale,
    completed_at_value AS completed_at,
    CAST(timezone(current_setting('TimeZone'), completed_at_value) AS DATE) AS completed_date,
    score_value AS score,
    list_filter([
        unparsed(completed_at, completed_at_value, 'completed_at'),
        unparsed(score, score_value, 'score')
    ], lambda c: c IS NOT NULL) AS unparseable_columns
FROM typed
