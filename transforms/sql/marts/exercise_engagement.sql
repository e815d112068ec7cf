-- marts.exercise_engagement: one row per participant × week with practice (OUTCOMES.md §7).
-- week = floor(days since enrolment / 7); distress drop = before − after, where both were logged.
WITH practices AS (
    SELECT DISTINCT e.participant_id, e.started_at, e.started_date, e.exercise, e.duration_minutes,
           e.distress_before, e.distress_after, e.is_completed
    FROM staging.exercises AS e
    WHERE NOT EXISTS (
        SELECT 1 FROM quality.quarantine AS q
        WHERE q.file_number = e.file_number AND q.source_row = e.source_row AND NOT q.is_resolved
    )
)
SELECT
    x.participant_id,
    CAST(floor((x.started_date - p.enrolled_date) / 7) AS INTEGER) AS week,
    count(*) AS practices,
    sum(x.duration_minutes) AS minutes,
    avg(CAST(x.is_completed AS INTEGER)) AS completed_share,
    avg(x.distress_before - x.distress_after) AS mean_distress_drop,
    count(x.distress_before - x.distress_after) AS practices_with_distress
FROM practices AS x
JOIN marts.participants AS p USING (participant_id)
GROUP BY ALL
ORDER BY x.participant_id, week
