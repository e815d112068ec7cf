-- One row per raw logged practice, typed; `is_completed` defaults to true.
WITH typed AS (
    SELECT
        *,
        TRY_CAST(upper(started_at) AS TIMESTAMPTZ) AS started_at_value,
        TRY_CAST(duration_minutes AS DOUBLE) AS duration_minutes_value,
        whole_number(distress_before) AS distress_before_value,
        whole_number(distress_after) AS distress_after_value,
        TRY_CAST(is_completed AS BOOLEAN) AS is_completed_value
    FROM raw.exercises
)
SELECT
    file_number,
    source_file,
    source_row,
    participant_id,
    started_at_value AS started_at,
    CAST(timezone(current_setting('TimeZone'), started_at_value) AS DATE) AS started_date,
    exercise,
    duration_minutes_value AS duration_minutes,
    distress_before_value AS distress_before,
    distress_after_value AS distress_after,
    coalesce(is_completed_value, is_completed IS NULL) AS is_completed,
    list_filter([
        unparsed(started_at, started_at_value, 'started_at'),
        unparsed(duration_minutes, duration_minutes_value, 'duration_minutes'),
        unparsed(distress_before, distress_before_value, 'distress_before'),
        unparsed(distress_after, distress_after_value, 'distress_after'),
        unparsed(is_completed, is_completed_value, 'is_completed')
    ], lambda c: c IS NOT NULL) AS unparseable_columns
FROM typed
