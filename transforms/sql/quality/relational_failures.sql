-- Rows that pass every single-row rule but fail a rule relating them to other rows, among the rows of the
-- participants in `rebuild` (a row's status depends only on its own participant's rows). Recomputed on every
-- refresh that brings them new rows, so that a held row is released once its participant arrives:
--   unknown_participant    the participant is not (yet) in the roster
--   before_enrolment       more than 365 days before the participant's enrolment
--   conflicting_duplicate  same participant, instrument and completed_at with different responses, or for a
--                          pre-scored result the same subscale too with a different score (all copies)
-- The names are listed in `relational_rules` (pipelines/warehouse.py RELATIONAL_RULES).
WITH row_rule_failures AS (
    SELECT DISTINCT file_number, source_row
    FROM quality.quarantine
    WHERE NOT list_contains(getvariable('relational_rules'), rule) AND NOT is_resolved  -- a row whose day came
),
events AS (
    SELECT * FROM (
        SELECT 'questionnaires' AS dataset, file_number, source_file, source_row, participant_id,
               completed_date AS event_date
        FROM staging.questionnaires
        UNION ALL
        SELECT 'scores', file_number, source_file, source_row, participant_id, completed_date FROM staging.scores
        UNION ALL
        SELECT 'exercises', file_number, source_file, source_row, participant_id, started_date FROM staging.exercises
    )
    WHERE participant_id IN (SELECT participant_id FROM rebuild)
),
checked AS (
    SELECT e.*, p.enrolled_date
    FROM events AS e
    ANTI JOIN row_rule_failures AS f USING (file_number, source_row)
    LEFT JOIN marts.participants AS p USING (participant_id)
),
valid_questionnaires AS (
    SELECT q.* FROM staging.questionnaires AS q ANTI JOIN row_rule_failures AS f USING (file_number, source_row)
    WHERE q.participant_id IN (SELECT participant_id FROM rebuild)
),
repeated_keys AS (  -- comparing responses is costly, so only where an administration arrived more than once
    SELECT participant_id, instrument, completed_at FROM valid_questionnaires GROUP BY ALL HAVING count(*) > 1
),
conflicts AS (
    SELECT q.file_number, q.source_file, q.source_row
    FROM valid_questionnaires AS q SEMI JOIN repeated_keys USING (participant_id, instrument, completed_at)
    QUALIFY count(DISTINCT q.responses) OVER (PARTITION BY q.participant_id, q.instrument, q.completed_at) > 1
),
score_conflicts AS (
    SELECT s.file_number, s.source_file, s.source_row
    FROM staging.scores AS s ANTI JOIN row_rule_failures AS f USING (file_number, source_row)
    WHERE s.participant_id IN (SELECT participant_id FROM rebuild)
    QUALIFY count(DISTINCT s.score) OVER (PARTITION BY s.participant_id, s.instrument, s.subscale, s.completed_at) > 1
)
SELECT file_number, source_file, source_row, dataset, 'unknown_participant' AS rule, 'participant_id' AS column_name,
       'no participant with this participant_id in the roster yet; released when they arrive' AS detail
FROM checked
WHERE enrolled_date IS NULL
UNION ALL
SELECT file_number, source_file, source_row, dataset, 'before_enrolment', CASE dataset WHEN 'exercises' THEN 'started_at' ELSE 'completed_at' END,
       'more than 365 days before the participant''s enrolled_date'
FROM checked
WHERE event_date < enrolled_date - INTERVAL 365 DAY
UNION ALL
SELECT file_number, source_file, source_row, 'questionnaires', 'conflicting_duplicate', 'responses',
       'another administration with the same participant, instrument and completed_at has different responses'
FROM conflicts
UNION ALL
SELECT file_number, source_file, source_row, 'scores', 'conflicting_duplicate', 'score',
       'another result with the same participant, instrument, subscale and completed_at has a different score'
FROM score_conflicts
