-- marts.exercise_engagement: one row per participant × week with practice (OUTCOMES.md §7).
-- week = floor(days since enrolment / 7); distress drop = before − after, where both were logged.
-- The minutes are added smallest first: in the order DuckDB's threads meet them, their sum differed in its last
-- digits from run to run, and so did which tertile of marts.dose_response a participant at a boundary fell in.
SELECT
    x.participant_id,
    CAST(floor((x.started_date - p.enrolled_date) / 7) AS INTEGER) AS week,
    count(*) AS practices,
    sum(x.duration_minutes ORDER BY x.duration_minutes) AS minutes,
    avg(CAST(x.is_completed AS INTEGER)) AS completed_share,
    avg(x.distress_before - x.distress_after) AS mean_distress_drop,
    count(x.distress_before - x.distress_after) AS practices_with_distress
FROM marts.practices AS x
JOIN marts.participants AS p USING (participant_id)
WHERE x.participant_id IN (SELECT participant_id FROM rebuild)
GROUP BY ALL
ORDER BY x.participant_id, week
