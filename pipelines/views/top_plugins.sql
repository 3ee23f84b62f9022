-- Plugins ranked by use, one row per plugin over everything loaded (from plugin_usage).
-- "User-days" add up each day's distinct users (a user active on 3 days counts 3). The ranking uses the
-- 28 days ending on the newest loaded day, then all loaded days, then the name. `third-party` aggregates the
-- plugins the API does not name.
-- columns:
--   popularity_rank (bigint): 1 = most used in the last 28 loaded days
--   plugin_name (text): Plugin name (`third-party` for the unnamed ones)
--   plugin_id (text): Plugin id, e.g. serena@claude-plugins-official (NULL for `third-party`)
--   first_used_date (date): First loaded day the plugin was used
--   last_used_date (date): Last loaded day the plugin was used
--   days_used (bigint): Loaded days with any use of the plugin
--   user_days (bigint): Sum over days of the plugin's distinct users
--   user_days_last_28d (bigint): user_days within the 28 days ending on the newest day in plugin_usage
--   peak_daily_users (bigint): Most distinct users on one day
--   installs (bigint): Installs (NULL when never reported)
--   invocations (bigint): Invocations (NULL when never reported)
--   claude_code_sessions (bigint): Claude Code sessions that used the plugin (NULL when never reported)
--   cowork_sessions (bigint): Cowork sessions that used the plugin (NULL when never reported)
WITH latest AS (
    SELECT MAX(date) AS last_day FROM plugin_usage
),
per_plugin AS (
    SELECT
        p.plugin_name,
        MAX(p.plugin_id) AS plugin_id,
        MIN(p.date) AS first_used_date,
        MAX(p.date) AS last_used_date,
        COUNT(DISTINCT p.date) AS days_used,
        CAST(SUM(p.distinct_user_count) AS BIGINT) AS user_days,
        CAST(SUM(CASE WHEN p.date > l.last_day - INTERVAL 28 DAY THEN p.distinct_user_count ELSE 0 END) AS BIGINT)
            AS user_days_last_28d,
        MAX(p.distinct_user_count) AS peak_daily_users,
        CAST(SUM(p.install_count) AS BIGINT) AS installs,
        CAST(SUM(p.invocation_count) AS BIGINT) AS invocations,
        CAST(SUM(p.claude_code_distinct_session_plugin_used_count) AS BIGINT) AS claude_code_sessions,
        CAST(SUM(p.cowork_distinct_session_plugin_used_count) AS BIGINT) AS cowork_sessions
    FROM plugin_usage AS p
    CROSS JOIN latest AS l
    GROUP BY p.plugin_name
)
SELECT
    ROW_NUMBER() OVER (ORDER BY user_days_last_28d DESC, user_days DESC, plugin_name) AS popularity_rank,
    plugin_name,
    plugin_id,
    first_used_date,
    last_used_date,
    days_used,
    user_days,
    user_days_last_28d,
    peak_daily_users,
    installs,
    invocations,
    claude_code_sessions,
    cowork_sessions
FROM per_plugin
