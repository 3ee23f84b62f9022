-- Connectors (MCP servers) ranked by use, one row per connector over everything loaded (from connector_usage).
-- "User-days" add up each day's distinct users (a user active on 3 days counts 3). The ranking uses the
-- 28 days ending on the newest loaded day, then all loaded days, then the name.
-- columns:
--   popularity_rank (bigint): 1 = most used in the last 28 loaded days
--   connector_name (text): Normalized connector name
--   connector_display_name (text): Human-readable connector name, where the API sends one
--   first_used_date (date): First loaded day the connector was used
--   last_used_date (date): Last loaded day the connector was used
--   days_used (bigint): Loaded days with any use of the connector
--   user_days (bigint): Sum over days of the connector's distinct users
--   user_days_last_28d (bigint): user_days within the 28 days ending on the newest day in connector_usage
--   peak_daily_users (bigint): Most distinct users on one day
--   chat_conversations (bigint): Chat conversations that used the connector (NULL when never reported)
--   claude_code_sessions (bigint): Claude Code sessions that used the connector (NULL when never reported)
--   cowork_sessions (bigint): Cowork sessions that used the connector (NULL when never reported)
--   read_calls (bigint): Read calls (NULL while the API does not report them)
--   write_calls (bigint): Write calls (NULL while the API does not report them)
--   unclassified_calls (bigint): Calls not classified as read or write (NULL while not reported)
WITH latest AS (
    SELECT MAX(date) AS last_day FROM connector_usage
),
per_connector AS (
    SELECT
        c.connector_name,
        MAX(c.connector_display_name) AS connector_display_name,
        MIN(c.date) AS first_used_date,
        MAX(c.date) AS last_used_date,
        COUNT(DISTINCT c.date) AS days_used,
        CAST(SUM(c.distinct_user_count) AS BIGINT) AS user_days,
        CAST(SUM(CASE WHEN c.date > l.last_day - INTERVAL 28 DAY THEN c.distinct_user_count ELSE 0 END) AS BIGINT)
            AS user_days_last_28d,
        MAX(c.distinct_user_count) AS peak_daily_users,
        CAST(SUM(c.chat_distinct_conversation_connector_used_count) AS BIGINT) AS chat_conversations,
        CAST(SUM(c.claude_code_distinct_session_connector_used_count) AS BIGINT) AS claude_code_sessions,
        CAST(SUM(c.cowork_distinct_session_connector_used_count) AS BIGINT) AS cowork_sessions,
        CAST(SUM(c.read_call_count) AS BIGINT) AS read_calls,
        CAST(SUM(c.write_call_count) AS BIGINT) AS write_calls,
        CAST(SUM(c.unclassified_call_count) AS BIGINT) AS unclassified_calls
    FROM connector_usage AS c
    CROSS JOIN latest AS l
    GROUP BY c.connector_name
)
SELECT
    ROW_NUMBER() OVER (ORDER BY user_days_last_28d DESC, user_days DESC, connector_name) AS popularity_rank,
    connector_name,
    connector_display_name,
    first_used_date,
    last_used_date,
    days_used,
    user_days,
    user_days_last_28d,
    peak_daily_users,
    chat_conversations,
    claude_code_sessions,
    cowork_sessions,
    read_calls,
    write_calls,
    unclassified_calls
FROM per_connector
