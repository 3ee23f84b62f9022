-- Chat project activity per project and week (weeks start on Monday), from chat_project_usage.
-- One row per (week_start, project_id) for projects used that week.
-- columns:
--   week_start (date): Monday of the week (UTC days)
--   project_id (text): Chat project id (claude_proj_…)
--   project_name (text): Project name
--   created_at (timestamp): When the project was created (UTC)
--   created_by_email (text): Creator's email address
--   active_days (bigint): Days of the week the project was used
--   peak_daily_users (bigint): Most distinct users of the project on one day
--   user_days (bigint): Sum over days of the project's distinct users
--   conversations (bigint): Conversations in the project (sum of daily distinct; NULL when never reported)
--   messages (bigint): Messages in the project
SELECT
    CAST(DATE_TRUNC('week', date) AS DATE) AS week_start,
    project_id,
    MAX(project_name) AS project_name,
    MAX(created_at) AS created_at,
    MAX(created_by_email) AS created_by_email,
    COUNT(DISTINCT date) AS active_days,
    MAX(distinct_user_count) AS peak_daily_users,
    CAST(SUM(distinct_user_count) AS BIGINT) AS user_days,
    CAST(SUM(distinct_conversation_count) AS BIGINT) AS conversations,
    CAST(SUM(message_count) AS BIGINT) AS messages
FROM chat_project_usage
GROUP BY CAST(DATE_TRUNC('week', date) AS DATE), project_id
