-- Skills ranked by use, one row per skill over everything loaded (from skill_usage).
-- "User-days" add up each day's distinct users (a user active on 3 days counts 3). The ranking uses the
-- 28 days ending on the newest loaded day, then all loaded days, then the name.
-- columns:
--   popularity_rank (bigint): 1 = most used in the last 28 loaded days
--   skill_name (text): Skill name (may be an opaque id)
--   skill_display_name (text): Human-readable skill name, where the API sends one
--   first_used_date (date): First loaded day the skill was used
--   last_used_date (date): Last loaded day the skill was used
--   days_used (bigint): Loaded days with any use of the skill
--   user_days (bigint): Sum over days of the skill's distinct users
--   user_days_last_28d (bigint): user_days within the 28 days ending on the newest day in skill_usage
--   peak_daily_users (bigint): Most distinct users on one day
--   chat_conversations (bigint): Chat conversations that used the skill (NULL when never reported)
--   claude_code_sessions (bigint): Claude Code sessions that used the skill (NULL when never reported)
--   cowork_sessions (bigint): Cowork sessions that used the skill (NULL when never reported)
--   invocations (bigint): Skill invocations (NULL while the API does not report them)
--   estimated_overage_spend (decimal): Estimated overage spend, currency units (NULL when never reported)
--   attributed_list_price (decimal): Attributed list price, currency units (NULL when never reported)
WITH latest AS (
    SELECT MAX(date) AS last_day FROM skill_usage
),
per_skill AS (
    SELECT
        s.skill_name,
        MAX(s.skill_display_name) AS skill_display_name,
        MIN(s.date) AS first_used_date,
        MAX(s.date) AS last_used_date,
        COUNT(DISTINCT s.date) AS days_used,
        CAST(SUM(s.distinct_user_count) AS BIGINT) AS user_days,
        CAST(SUM(CASE WHEN s.date > l.last_day - INTERVAL 28 DAY THEN s.distinct_user_count ELSE 0 END) AS BIGINT)
            AS user_days_last_28d,
        MAX(s.distinct_user_count) AS peak_daily_users,
        CAST(SUM(s.chat_distinct_conversation_skill_used_count) AS BIGINT) AS chat_conversations,
        CAST(SUM(s.claude_code_distinct_session_skill_used_count) AS BIGINT) AS claude_code_sessions,
        CAST(SUM(s.cowork_distinct_session_skill_used_count) AS BIGINT) AS cowork_sessions,
        CAST(SUM(s.invocation_count) AS BIGINT) AS invocations,
        SUM(s.estimated_overage_spend) AS estimated_overage_spend,
        SUM(s.attributed_list_price) AS attributed_list_price
    FROM skill_usage AS s
    CROSS JOIN latest AS l
    GROUP BY s.skill_name
)
SELECT
    ROW_NUMBER() OVER (ORDER BY user_days_last_28d DESC, user_days DESC, skill_name) AS popularity_rank,
    skill_name,
    skill_display_name,
    first_used_date,
    last_used_date,
    days_used,
    user_days,
    user_days_last_28d,
    peak_daily_users,
    chat_conversations,
    claude_code_sessions,
    cowork_sessions,
    invocations,
    estimated_overage_spend,
    attributed_list_price
FROM per_skill
