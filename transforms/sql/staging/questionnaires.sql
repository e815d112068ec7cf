-- One row per raw administration, typed: `responses[i]` is item i, an integer or NULL (not answered),
-- with trailing blanks trimmed so that the same answers compare equal whatever columns the file had.
-- Days are calendar dates in the program time zone (the session's TimeZone).
WITH typed AS (
    SELECT
        *,
        TRY_CAST(completed_at AS TIMESTAMPTZ) AS completed_at_value,
        responses[1:coalesce(list_max(list_filter(range(1, len(responses) + 1), lambda i: responses[i] IS NOT NULL)), 0)]
            AS answered,
        list_transform(answered, lambda r: whole_number(r)) AS response_values
    FROM raw.questionnaires
)
SELECT
    file_number,
    source_file,
    source_row,
    participant_id,
    instrument,
    completed_at_value AS completed_at,
    CAST(timezone(current_setting('TimeZone'), completed_at_value) AS DATE) AS completed_date,
    response_values AS responses,
    list_filter(
        [unparsed(completed_at, completed_at_value, 'completed_at')]
        || list_transform(
            list_zip(answered, response_values, range(1, len(answered) + 1)),
            lambda z: unparsed(z[1], z[2], 'item_' || z[3])
        ),
        lambda c: c IS NOT NULL
    ) AS unparseable_columns
FROM typed
