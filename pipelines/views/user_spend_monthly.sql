-- Spend and usage per user and calendar month, from user_cost_report and user_usage_report.
-- One row per (month_start, user_id) for users with cost or usage that month; service accounts and removed
-- members are users here too. Traffic the reports cannot attribute to a user (API keys) is not in these
-- tables: v_daily_spend has it. Money is exact, in US dollars. A month at either end of the loaded range may be
-- partial.
-- columns:
--   month_start (date): First day of the month (UTC days)
--   user_id (text): User id (user_…)
--   user_email (text): The user's email address, where the API sends one (NULL for deleted and service accounts)
--   user_name (text): The user's name, where the API sends one
--   amount (decimal): Spend in US dollars after negotiated discounts, before credits (NULL without cost rows)
--   list_amount (decimal): Spend at list price in US dollars (NULL without cost rows)
--   total_tokens (bigint): All tokens: uncached input, cache creation, cache reads and output (NULL without usage rows)
--   requests (bigint): Requests (NULL without usage rows)
--   products_used (bigint): Distinct products with cost or usage that month
WITH rows_of_both AS (
    SELECT
        CAST(DATE_TRUNC('month', date) AS DATE) AS month_start,
        user_id,
        user_email,
        user_name,
        product,
        amount,
        list_amount,
        CAST(NULL AS BIGINT) AS total_tokens,
        CAST(NULL AS BIGINT) AS requests
    FROM user_cost_report
    UNION ALL
    SELECT
        CAST(DATE_TRUNC('month', date) AS DATE) AS month_start,
        user_id,
        user_email,
        user_name,
        product,
        CAST(NULL AS DECIMAL(38, 9)) AS amount,
        CAST(NULL AS DECIMAL(38, 9)) AS list_amount,
        total_tokens,
        requests
    FROM user_usage_report
)
SELECT
    month_start,
    user_id,
    MAX(user_email) AS user_email,
    MAX(user_name) AS user_name,
    SUM(amount) AS amount,
    SUM(list_amount) AS list_amount,
    CAST(SUM(total_tokens) AS BIGINT) AS total_tokens,
    CAST(SUM(requests) AS BIGINT) AS requests,
    COUNT(DISTINCT product) AS products_used
FROM rows_of_both
GROUP BY month_start, user_id
