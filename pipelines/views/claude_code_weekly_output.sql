-- Claude Code output per user and week (weeks start on Monday), from user_activity.
-- One row per (week_start, user_id) for users with Claude Code output that week (lines, commits, pull
-- requests, sessions or tool decisions). Tool counters add up the edit, multi-edit, write and notebook-edit
-- tools; a tool the API left NULL counts as none.
-- columns:
--   week_start (date): Monday of the week (UTC days)
--   user_id (text): Tagged user id (user_…)
--   user_email (text): The user's email address
--   active_days (bigint): Days of the week with Claude Code output
--   sessions (bigint): Claude Code sessions (sum of daily distinct sessions; NULL when never reported)
--   commits (bigint): Commits made with Claude Code
--   pull_requests (bigint): Pull requests created with Claude Code
--   lines_added (bigint): Lines of code added
--   lines_removed (bigint): Lines of code removed
--   tool_suggestions_accepted (bigint): Edit, multi-edit, write and notebook-edit suggestions accepted
--   tool_suggestions_rejected (bigint): Edit, multi-edit, write and notebook-edit suggestions rejected
--   tool_acceptance_rate (double): accepted ÷ (accepted + rejected), 0–1 (NULL without decisions)
WITH days AS (
    SELECT
        CAST(DATE_TRUNC('week', date) AS DATE) AS week_start,
        date,
        user_id,
        user_email,
        claude_code_distinct_session_count AS sessions,
        claude_code_commit_count AS commits,
        claude_code_pull_request_count AS pull_requests,
        claude_code_lines_of_code_added_count AS lines_added,
        claude_code_lines_of_code_removed_count AS lines_removed,
        COALESCE(claude_code_tool_actions_edit_tool_accepted_count, 0)
            + COALESCE(claude_code_tool_actions_multi_edit_tool_accepted_count, 0)
            + COALESCE(claude_code_tool_actions_write_tool_accepted_count, 0)
            + COALESCE(claude_code_tool_actions_notebook_edit_tool_accepted_count, 0) AS accepted,
        COALESCE(claude_code_tool_actions_edit_tool_rejected_count, 0)
            + COALESCE(claude_code_tool_actions_multi_edit_tool_rejected_count, 0)
            + COALESCE(claude_code_tool_actions_write_tool_rejected_count, 0)
            + COALESCE(claude_code_tool_actions_notebook_edit_tool_rejected_count, 0) AS rejected
    FROM user_activity
)
SELECT
    week_start,
    user_id,
    MAX(user_email) AS user_email,
    COUNT(DISTINCT date) AS active_days,
    CAST(SUM(sessions) AS BIGINT) AS sessions,
    CAST(SUM(commits) AS BIGINT) AS commits,
    CAST(SUM(pull_requests) AS BIGINT) AS pull_requests,
    CAST(SUM(lines_added) AS BIGINT) AS lines_added,
    CAST(SUM(lines_removed) AS BIGINT) AS lines_removed,
    CAST(SUM(accepted) AS BIGINT) AS tool_suggestions_accepted,
    CAST(SUM(rejected) AS BIGINT) AS tool_suggestions_rejected,
    CAST(SUM(accepted) AS DOUBLE) / NULLIF(CAST(SUM(accepted) + SUM(rejected) AS DOUBLE), 0) AS tool_acceptance_rate
FROM days
WHERE lines_added > 0 OR lines_removed > 0 OR commits > 0 OR pull_requests > 0 OR sessions > 0
   OR accepted + rejected > 0
GROUP BY week_start, user_id
