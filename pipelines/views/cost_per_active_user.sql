-- Spend per active user, per week (weeks start on Monday) and product, from cost_report and user_activity.
-- One row per (week_start, product) with spend, and per measured product for every week with loaded activity
-- (active_users 0 when nobody used it). Spend is the organization's (cost_report; API keys under
-- `(unattributed)`). Active users are the distinct users of user_activity active in the product on a day of the
-- week: chat = a chat message; claude_code = Claude Code lines added or removed, a commit, a pull request or a
-- session; cowork = a Cowork session (these three as in v_weekly_user_engagement); office_agent = a Claude in
-- Excel or PowerPoint session; claude_design = a Claude Design session. claude_in_chrome, claude_tag, other and
-- (unattributed) have no per-user activity in user_activity: their active_users is NULL. The spend and
-- engagement calendars differ (the cost reports are fresher and reach further back), so a week at either end
-- may hold only one of them, or part of a week.
-- columns:
--   week_start (date): Monday of the week (UTC days)
--   product (text): chat, claude_code, cowork, office_agent, claude_design, claude_in_chrome, claude_tag, other, or (unattributed)
--   amount (decimal): Spend in US dollars after negotiated discounts (NULL when cost_report has no row for it)
--   list_amount (decimal): Spend at list price in US dollars
--   active_users (bigint): Distinct users active in the product that week (NULL where not measured or not loaded)
--   cost_per_active_user (decimal): amount ÷ active_users, US dollars (NULL without active users)
WITH spend AS (
    SELECT
        CAST(DATE_TRUNC('week', date) AS DATE) AS week_start,
        COALESCE(product, '(unattributed)') AS product,
        SUM(amount) AS amount,
        SUM(list_amount) AS list_amount
    FROM cost_report
    GROUP BY CAST(DATE_TRUNC('week', date) AS DATE), COALESCE(product, '(unattributed)')
),
days AS (
    SELECT
        CAST(DATE_TRUNC('week', date) AS DATE) AS week_start,
        CASE WHEN chat_message_count > 0 THEN user_id END AS chat_user,
        CASE WHEN claude_code_lines_of_code_added_count > 0 OR claude_code_lines_of_code_removed_count > 0
                  OR claude_code_commit_count > 0 OR claude_code_pull_request_count > 0
                  OR claude_code_distinct_session_count > 0 THEN user_id END AS claude_code_user,
        CASE WHEN cowork_distinct_session_count > 0 THEN user_id END AS cowork_user,
        CASE WHEN office_excel_distinct_session_count > 0 OR office_powerpoint_distinct_session_count > 0
             THEN user_id END AS office_agent_user,
        CASE WHEN design_distinct_session_count > 0 THEN user_id END AS claude_design_user
    FROM user_activity
),
active AS (
    SELECT week_start, 'chat' AS product, COUNT(DISTINCT chat_user) AS active_users FROM days GROUP BY week_start
    UNION ALL
    SELECT week_start, 'claude_code' AS product, COUNT(DISTINCT claude_code_user) AS active_users FROM days
    GROUP BY week_start
    UNION ALL
    SELECT week_start, 'cowork' AS product, COUNT(DISTINCT cowork_user) AS active_users FROM days GROUP BY week_start
    UNION ALL
    SELECT week_start, 'office_agent' AS product, COUNT(DISTINCT office_agent_user) AS active_users FROM days
    GROUP BY week_start
    UNION ALL
    SELECT week_start, 'claude_design' AS product, COUNT(DISTINCT claude_design_user) AS active_users FROM days
    GROUP BY week_start
)
SELECT
    COALESCE(s.week_start, a.week_start) AS week_start,
    COALESCE(s.product, a.product) AS product,
    s.amount,
    s.list_amount,
    a.active_users,
    CAST(s.amount / NULLIF(a.active_users, 0) AS DECIMAL(38, 9)) AS cost_per_active_user
FROM spend AS s
FULL OUTER JOIN active AS a
    ON a.week_start = s.week_start AND a.product = s.product
