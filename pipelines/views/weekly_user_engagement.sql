-- Engagement per user and week (weeks start on Monday), summed from user_activity.
-- One row per (week_start, user_id) for every user active at least one day of the week. Sums skip NULLs;
-- a sum is NULL only when the API sent NULL (or nothing) on every day of the week.
-- columns:
--   week_start (date): Monday of the week (UTC days)
--   user_id (text): Tagged user id (user_…)
--   user_email (text): The user's email address
--   active_days (bigint): Days of the week with any activity
--   chat_active_days (bigint): Days with at least one chat message
--   claude_code_active_days (bigint): Days with Claude Code output (lines, commits, pull requests or sessions)
--   cowork_active_days (bigint): Days with at least one Cowork session
--   chat_conversations (bigint): Chat conversations (sum of daily distinct conversations)
--   chat_messages (bigint): Chat messages
--   claude_code_sessions (bigint): Claude Code sessions (sum of daily distinct sessions)
--   claude_code_lines_added (bigint): Lines of code added with Claude Code
--   cowork_sessions (bigint): Cowork sessions (sum of daily distinct sessions)
--   cowork_messages (bigint): Cowork messages
--   excel_sessions (bigint): Claude in Excel sessions
--   powerpoint_sessions (bigint): Claude in PowerPoint sessions
--   design_sessions (bigint): Claude Design sessions
--   web_searches (bigint): Web searches in chat and Claude Code
WITH days AS (
    SELECT
        CAST(DATE_TRUNC('week', date) AS DATE) AS week_start,
        date,
        user_id,
        user_email,
        CASE WHEN chat_message_count > 0 THEN 1 ELSE 0 END AS chat_active,
        CASE WHEN claude_code_lines_of_code_added_count > 0 OR claude_code_lines_of_code_removed_count > 0
                  OR claude_code_commit_count > 0 OR claude_code_pull_request_count > 0
                  OR claude_code_distinct_session_count > 0 THEN 1 ELSE 0 END AS claude_code_active,
        CASE WHEN cowork_distinct_session_count > 0 THEN 1 ELSE 0 END AS cowork_active,
        chat_distinct_conversation_count,
        chat_message_count,
        claude_code_distinct_session_count,
        claude_code_lines_of_code_added_count,
        cowork_distinct_session_count,
        cowork_message_count,
        office_excel_distinct_session_count,
        office_powerpoint_distinct_session_count,
        design_distinct_session_count,
        web_search_count
    FROM user_activity
)
SELECT
    week_start,
    user_id,
    MAX(user_email) AS user_email,
    COUNT(DISTINCT date) AS active_days,
    CAST(SUM(chat_active) AS BIGINT) AS chat_active_days,
    CAST(SUM(claude_code_active) AS BIGINT) AS claude_code_active_days,
    CAST(SUM(cowork_active) AS BIGINT) AS cowork_active_days,
    CAST(SUM(chat_distinct_conversation_count) AS BIGINT) AS chat_conversations,
    CAST(SUM(chat_message_count) AS BIGINT) AS chat_messages,
    CAST(SUM(claude_code_distinct_session_count) AS BIGINT) AS claude_code_sessions,
    CAST(SUM(claude_code_lines_of_code_added_count) AS BIGINT) AS claude_code_lines_added,
    CAST(SUM(cowork_distinct_session_count) AS BIGINT) AS cowork_sessions,
    CAST(SUM(cowork_message_count) AS BIGINT) AS cowork_messages,
    CAST(SUM(office_excel_distinct_session_count) AS BIGINT) AS excel_sessions,
    CAST(SUM(office_powerpoint_distinct_session_count) AS BIGINT) AS powerpoint_sessions,
    CAST(SUM(design_distinct_session_count) AS BIGINT) AS design_sessions,
    CAST(SUM(web_search_count) AS BIGINT) AS web_searches
FROM days
GROUP BY week_start, user_id
