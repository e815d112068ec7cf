-- One row per raw administration, typed: `responses[i]` is item i, an integer or NULL (not answered),
-- with trailing blanks trimmed so that the same answers compare equal whatever columns the file had.
-- Days are calendar dates in the program time zone (the session's TimeZone).
-- Instants are RFC 3339, whose T and Z may be written in lower case.
-- Each step has a fast path for the usual row (last item answered; every answer a whole number; nothing
-- unparseable), which gives what the general expression beside it would, and leaves that one to the other rows.
WITH trimmed AS (
    SELECT
        *,
        TRY_CAST(upper(completed_at) AS TIMESTAMPTZ) AS completed_at_value,
        CASE WHEN responses[-1] IS NOT NULL THEN responses
             ELSE responses[1:coalesce(list_max(list_filter(range(1, len(responses) + 1), lambda i: responses[i] IS NOT NULL)), 0)]
        END AS answered
    FROM raw.questionnaires
), typed AS (
    SELECT
        *,
        -- DuckDB's cast rounds "5.5" to 6: it is taken only where it changes no answer
        CASE WHEN TRY_CAST(answered AS DOUBLE[]) IS NOT DISTINCT FROM TRY_CAST(TRY_CAST(answered AS INTEGER[]) AS DOUBLE[])
             THEN TRY_CAST(answered AS INTEGER[])
             ELSE list_transform(answered, lambda r: whole_number(r))
        END AS response_values
    FROM trimmed
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
        || CASE WHEN list_count(answered) = list_count(response_values) THEN []  -- every answer parsed
           ELSE list_transform(
               list_zip(answered, response_values, range(1, len(answered) + 1)),
               lambda z: unparsed(z[1], z[2], 'item_' || z[3])
           ) END,
        lambda c: c IS NOT NULL
    ) AS unparseable_columns
FROM typed
