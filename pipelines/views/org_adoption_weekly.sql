-- Adoption and output per org unit and week (weeks start on Monday), from user_activity and org_chart.
-- The org unit is the org chart's column named by the setting org_unit_attribute (default department; a person
-- whose column is empty is under `(unassigned)`). One row per (week_start, org_unit) for every org unit of the
-- org chart in every week with loaded activity, plus `(not in org chart)` in the weeks when people the org
-- chart does not list were active. People are matched on user_id, else on email (case-insensitive), with the
-- key columns the org chart has. Active as in v_weekly_user_engagement: a day with any activity; chat: a
-- message; Claude Code: lines added or removed, a commit, a pull request or a session; Cowork: a session.
-- Sums are 0 when no member was active that week, NULL when members were but the API sent no value.
-- columns:
--   week_start (date): Monday of the week (UTC days)
--   org_unit (text): The org unit (the org_unit_attribute column), `(unassigned)` or `(not in org chart)`
--   headcount (bigint): People of the org unit in the org chart, with or without a seat (NULL for `(not in org chart)`)
--   active_users (bigint): Members active on at least one day of the week
--   chat_active_users (bigint): Members with at least one chat message that week
--   claude_code_active_users (bigint): Members with Claude Code output that week
--   cowork_active_users (bigint): Members with at least one Cowork session that week
--   adoption_rate (double): active_users ÷ headcount × 100 (NULL without headcount)
--   claude_code_lines_added (bigint): Lines of code added with Claude Code
--   claude_code_lines_removed (bigint): Lines of code removed with Claude Code
--   claude_code_commits (bigint): Commits made with Claude Code
--   claude_code_pull_requests (bigint): Pull requests created with Claude Code
--   chat_messages (bigint): Chat messages
--   cowork_messages (bigint): Cowork messages
WITH people AS (
    SELECT o.user_id, o.email, COALESCE(NULLIF(o.org_unit, ''), '(unassigned)') AS org_unit
    FROM org_chart AS o
),
units AS (
    SELECT org_unit, COUNT(*) AS headcount FROM people GROUP BY org_unit
),
days AS (
    -- matched on user_id first: an email can change, the id does not
    SELECT
        CAST(DATE_TRUNC('week', a.date) AS DATE) AS week_start,
        COALESCE(by_id.org_unit, by_email.org_unit, '(not in org chart)') AS org_unit,
        a.user_id,
        CASE WHEN a.chat_message_count > 0 THEN a.user_id END AS chat_user,
        CASE WHEN a.claude_code_lines_of_code_added_count > 0 OR a.claude_code_lines_of_code_removed_count > 0
                  OR a.claude_code_commit_count > 0 OR a.claude_code_pull_request_count > 0
                  OR a.claude_code_distinct_session_count > 0 THEN a.user_id END AS claude_code_user,
        CASE WHEN a.cowork_distinct_session_count > 0 THEN a.user_id END AS cowork_user,
        a.claude_code_lines_of_code_added_count AS lines_added,
        a.claude_code_lines_of_code_removed_count AS lines_removed,
        a.claude_code_commit_count AS commits,
        a.claude_code_pull_request_count AS pull_requests,
        a.chat_message_count AS chat_messages,
        a.cowork_message_count AS cowork_messages
    FROM user_activity AS a
    LEFT JOIN people AS by_id ON by_id.user_id = a.user_id
    LEFT JOIN people AS by_email ON by_email.email = LOWER(a.user_email)
),
per_unit AS (
    SELECT
        week_start,
        org_unit,
        COUNT(DISTINCT user_id) AS active_users,
        COUNT(DISTINCT chat_user) AS chat_active_users,
        COUNT(DISTINCT claude_code_user) AS claude_code_active_users,
        COUNT(DISTINCT cowork_user) AS cowork_active_users,
        CAST(SUM(lines_added) AS BIGINT) AS lines_added,
        CAST(SUM(lines_removed) AS BIGINT) AS lines_removed,
        CAST(SUM(commits) AS BIGINT) AS commits,
        CAST(SUM(pull_requests) AS BIGINT) AS pull_requests,
        CAST(SUM(chat_messages) AS BIGINT) AS chat_messages,
        CAST(SUM(cowork_messages) AS BIGINT) AS cowork_messages
    FROM days
    GROUP BY week_start, org_unit
),
grid AS (
    -- every org unit in every week, so that a unit nobody in used shows 0 % rather than no row
    SELECT w.week_start, u.org_unit, u.headcount
    FROM (SELECT DISTINCT week_start FROM days) AS w
    CROSS JOIN units AS u
    UNION ALL
    SELECT DISTINCT week_start, org_unit, CAST(NULL AS BIGINT) AS headcount
    FROM days
    WHERE org_unit = '(not in org chart)'
)
SELECT
    g.week_start,
    g.org_unit,
    g.headcount,
    COALESCE(p.active_users, 0) AS active_users,
    COALESCE(p.chat_active_users, 0) AS chat_active_users,
    COALESCE(p.claude_code_active_users, 0) AS claude_code_active_users,
    COALESCE(p.cowork_active_users, 0) AS cowork_active_users,
    CAST(COALESCE(p.active_users, 0) AS DOUBLE) * 100 / NULLIF(g.headcount, 0) AS adoption_rate,
    CASE WHEN p.org_unit IS NULL THEN 0 ELSE p.lines_added END AS claude_code_lines_added,
    CASE WHEN p.org_unit IS NULL THEN 0 ELSE p.lines_removed END AS claude_code_lines_removed,
    CASE WHEN p.org_unit IS NULL THEN 0 ELSE p.commits END AS claude_code_commits,
    CASE WHEN p.org_unit IS NULL THEN 0 ELSE p.pull_requests END AS claude_code_pull_requests,
    CASE WHEN p.org_unit IS NULL THEN 0 ELSE p.chat_messages END AS chat_messages,
    CASE WHEN p.org_unit IS NULL THEN 0 ELSE p.cowork_messages END AS cowork_messages
FROM grid AS g
LEFT JOIN per_unit AS p
    ON p.week_start = g.week_start AND p.org_unit = g.org_unit
