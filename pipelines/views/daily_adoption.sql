-- Organization-wide adoption per day: active users, seats and adoption rates (from activity_summary).
-- One row per day. Rates are percentages as the API sends them; NULL where the API sent nothing.
-- columns:
--   date (date): The UTC day
--   daily_active_users (bigint): Distinct active users on the day
--   weekly_active_users (bigint): Distinct active users over the 7 days ending on the day
--   monthly_active_users (bigint): Distinct active users over the 30 days ending on the day
--   assigned_seats (bigint): Seats assigned on the day
--   pending_invites (bigint): Invitations not yet accepted on the day
--   daily_adoption_rate (double): Daily active users ÷ assigned seats × 100, as sent by the API
--   weekly_adoption_rate (double): Weekly active users ÷ assigned seats × 100, as sent by the API
--   monthly_adoption_rate (double): Monthly active users ÷ assigned seats × 100, as sent by the API
--   dau_mau_ratio (double): Stickiness: daily ÷ monthly active users (0–1; NULL when no monthly users)
--   chat_daily_active_users (bigint): Daily active users of chat (NULL while the API sends no product breakdown)
--   claude_code_daily_active_users (bigint): Daily active users of Claude Code
--   cowork_daily_active_users (bigint): Daily active users of Cowork
--   claude_design_daily_active_users (bigint): Daily active users of Claude Design
--   office_agent_daily_active_users (bigint): Daily active users of the Office agent
--   science_daily_active_users (bigint): Daily active users of Claude for Science
SELECT
    date,
    daily_active_user_count AS daily_active_users,
    weekly_active_user_count AS weekly_active_users,
    monthly_active_user_count AS monthly_active_users,
    assigned_seat_count AS assigned_seats,
    pending_invite_count AS pending_invites,
    daily_adoption_rate,
    weekly_adoption_rate,
    monthly_adoption_rate,
    CAST(daily_active_user_count AS DOUBLE) / NULLIF(monthly_active_user_count, 0) AS dau_mau_ratio,
    chat_daily_active_user_count AS chat_daily_active_users,
    claude_code_daily_active_user_count AS claude_code_daily_active_users,
    cowork_daily_active_user_count AS cowork_daily_active_users,
    claude_design_daily_active_user_count AS claude_design_daily_active_users,
    office_agent_daily_active_user_count AS office_agent_daily_active_users,
    science_daily_active_user_count AS science_daily_active_users
FROM activity_summary
