-- Per exercise type, the practices with distress logged before and after (OUTCOMES.md §7): how many, by how many
-- participants, and the sums of their distress drops (before − after) and of the drops' squares, whole numbers
-- from which transforms/engagement.py `exercise_effects` takes the mean and SD, in any order of the practices.
SELECT exercise, count(*) AS practices, count(DISTINCT participant_id) AS participants,
       CAST(sum(distress_before - distress_after) AS BIGINT) AS total,
       CAST(sum(CAST(distress_before - distress_after AS BIGINT) * (distress_before - distress_after)) AS BIGINT)
           AS squares
FROM marts.practices
WHERE distress_before IS NOT NULL AND distress_after IS NOT NULL
GROUP BY exercise
