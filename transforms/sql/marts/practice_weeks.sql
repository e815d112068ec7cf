-- marts.practice_weeks: practices per week since enrolment (weeks 0–10) × exercise type × site × modality, with how
-- many people practised: the Exercises page's cells. Each person is in one site and one modality, so adding a week's
-- and exercise's cells over any choice of sites and modalities counts no one twice.
SELECT
    CAST(floor((x.started_date - p.enrolled_date) / 7) AS INTEGER) AS week,
    x.exercise,
    p.site_id,
    p.modality,
    count(*) AS practices,
    count(DISTINCT x.participant_id) AS people
FROM marts.practices AS x
JOIN marts.participants AS p USING (participant_id)
GROUP BY ALL
HAVING week BETWEEN 0 AND 10
ORDER BY week, x.exercise, p.site_id, p.modality
