-- marts.score_weeks: the scores of each measure per week since enrolment (weeks 0–10) × cohort × site × modality, with
-- how many people were scored, how many scores and their sum: the Trends page's cells. Each person is in one cohort,
-- one site and one modality, so adding a week's cells over any of them counts no one twice, and their sum over their
-- count of scores is the mean score.
SELECT
    a.instrument,
    a.subscale,
    a.week,
    p.cohort_id,
    p.site_id,
    p.modality,
    count(DISTINCT a.participant_id) AS people,
    count(*) AS scores,
    sum(a.score) AS score_total
FROM marts.assessments AS a
JOIN marts.participants AS p USING (participant_id)
WHERE a.score IS NOT NULL AND a.week BETWEEN 0 AND 10
GROUP BY ALL
ORDER BY ALL
