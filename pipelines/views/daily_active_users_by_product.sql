-- Active users per day and product, one row per (day, product) the API reports (from activity_summary).
-- Long format for charts and BI filters: product 'all' is the organization total; a product appears on the
-- days the API sends its breakdown. Adoption rates are computed here: users ÷ assigned seats × 100.
-- columns:
--   date (date): The UTC day
--   product (text): all, chat, claude_code, cowork, claude_design, office_agent, science or chat_cowork_unified
--   daily_active_users (bigint): Distinct active users of the product on the day
--   weekly_active_users (bigint): Distinct active users of the product over the 7 days ending on the day
--   monthly_active_users (bigint): Distinct active users of the product over the 30 days ending on the day
--   assigned_seats (bigint): Seats assigned on the day
--   daily_adoption_rate (double): daily_active_users ÷ assigned_seats × 100 (NULL without seats)
--   weekly_adoption_rate (double): weekly_active_users ÷ assigned_seats × 100 (NULL without seats)
--   monthly_adoption_rate (double): monthly_active_users ÷ assigned_seats × 100 (NULL without seats)
SELECT
    date,
    'all' AS product,
    daily_active_user_count AS daily_active_users,
    weekly_active_user_count AS weekly_active_users,
    monthly_active_user_count AS monthly_active_users,
    assigned_seat_count AS assigned_seats,
    CAST(daily_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS daily_adoption_rate,
    CAST(weekly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS weekly_adoption_rate,
    CAST(monthly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS monthly_adoption_rate
FROM activity_summary
WHERE daily_active_user_count IS NOT NULL
UNION ALL
SELECT
    date,
    'chat' AS product,
    chat_daily_active_user_count AS daily_active_users,
    chat_weekly_active_user_count AS weekly_active_users,
    chat_monthly_active_user_count AS monthly_active_users,
    assigned_seat_count AS assigned_seats,
    CAST(chat_daily_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS daily_adoption_rate,
    CAST(chat_weekly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS weekly_adoption_rate,
    CAST(chat_monthly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS monthly_adoption_rate
FROM activity_summary
WHERE chat_daily_active_user_count IS NOT NULL
UNION ALL
SELECT
    date,
    'claude_code' AS product,
    claude_code_daily_active_user_count AS daily_active_users,
    claude_code_weekly_active_user_count AS weekly_active_users,
    claude_code_monthly_active_user_count AS monthly_active_users,
    assigned_seat_count AS assigned_seats,
    CAST(claude_code_daily_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS daily_adoption_rate,
    CAST(claude_code_weekly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS weekly_adoption_rate,
    CAST(claude_code_monthly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS monthly_adoption_rate
FROM activity_summary
WHERE claude_code_daily_active_user_count IS NOT NULL
UNION ALL
SELECT
    date,
    'cowork' AS product,
    cowork_daily_active_user_count AS daily_active_users,
    cowork_weekly_active_user_count AS weekly_active_users,
    cowork_monthly_active_user_count AS monthly_active_users,
    assigned_seat_count AS assigned_seats,
    CAST(cowork_daily_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS daily_adoption_rate,
    CAST(cowork_weekly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS weekly_adoption_rate,
    CAST(cowork_monthly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS monthly_adoption_rate
FROM activity_summary
WHERE cowork_daily_active_user_count IS NOT NULL
UNION ALL
SELECT
    date,
    'claude_design' AS product,
    claude_design_daily_active_user_count AS daily_active_users,
    claude_design_weekly_active_user_count AS weekly_active_users,
    claude_design_monthly_active_user_count AS monthly_active_users,
    assigned_seat_count AS assigned_seats,
    CAST(claude_design_daily_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS daily_adoption_rate,
    CAST(claude_design_weekly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS weekly_adoption_rate,
    CAST(claude_design_monthly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS monthly_adoption_rate
FROM activity_summary
WHERE claude_design_daily_active_user_count IS NOT NULL
UNION ALL
SELECT
    date,
    'office_agent' AS product,
    office_agent_daily_active_user_count AS daily_active_users,
    office_agent_weekly_active_user_count AS weekly_active_users,
    office_agent_monthly_active_user_count AS monthly_active_users,
    assigned_seat_count AS assigned_seats,
    CAST(office_agent_daily_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS daily_adoption_rate,
    CAST(office_agent_weekly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS weekly_adoption_rate,
    CAST(office_agent_monthly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS monthly_adoption_rate
FROM activity_summary
WHERE office_agent_daily_active_user_count IS NOT NULL
UNION ALL
SELECT
    date,
    'science' AS product,
    science_daily_active_user_count AS daily_active_users,
    science_weekly_active_user_count AS weekly_active_users,
    science_monthly_active_user_count AS monthly_active_users,
    assigned_seat_count AS assigned_seats,
    CAST(science_daily_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS daily_adoption_rate,
    CAST(science_weekly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS weekly_adoption_rate,
    CAST(science_monthly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS monthly_adoption_rate
FROM activity_summary
WHERE science_daily_active_user_count IS NOT NULL
UNION ALL
SELECT
    date,
    'chat_cowork_unified' AS product,
    chat_cowork_unified_daily_active_user_count AS daily_active_users,
    chat_cowork_unified_weekly_active_user_count AS weekly_active_users,
    chat_cowork_unified_monthly_active_user_count AS monthly_active_users,
    assigned_seat_count AS assigned_seats,
    CAST(chat_cowork_unified_daily_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS daily_adoption_rate,
    CAST(chat_cowork_unified_weekly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS weekly_adoption_rate,
    CAST(chat_cowork_unified_monthly_active_user_count AS DOUBLE) * 100 / NULLIF(assigned_seat_count, 0) AS monthly_adoption_rate
FROM activity_summary
WHERE chat_cowork_unified_daily_active_user_count IS NOT NULL
