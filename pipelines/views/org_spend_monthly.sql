-- Spend and tokens per org unit and calendar month, from user_cost_report, user_usage_report and org_chart.
-- The org unit is the org chart's column named by the setting org_unit_attribute (default department; a person
-- whose column is empty is under `(unassigned)`). One row per (month_start, org_unit) for every org unit of the
-- org chart in every month with loaded per-user cost or usage (0 when the unit spent nothing), plus
-- `(not in org chart)` for users the org chart does not list (service accounts and deleted accounts among
-- them). People are matched on user_id, else on email (case-insensitive), with the key columns the org chart
-- has. Traffic not attributed to a user (API keys) is in no org unit: v_daily_spend has it. Money is exact, in
-- US dollars; a month at either end of the loaded range may be partial.
-- columns:
--   month_start (date): First day of the month (UTC days)
--   org_unit (text): The org unit (the org_unit_attribute column), `(unassigned)` or `(not in org chart)`
--   headcount (bigint): People of the org unit in the org chart, with or without a seat (NULL for `(not in org chart)`)
--   users_with_usage (bigint): Members with cost or usage in the month
--   amount (decimal): Spend in US dollars after negotiated discounts, before credits
--   list_amount (decimal): Spend at list price in US dollars
--   total_tokens (bigint): All tokens: uncached input, cache creation, cache reads and output
--   amount_per_head (decimal): amount ÷ headcount, US dollars (NULL without headcount)
WITH people AS (
    SELECT o.user_id, o.email, COALESCE(NULLIF(o.org_unit, ''), '(unassigned)') AS org_unit
    FROM org_chart AS o
),
units AS (
    SELECT org_unit, COUNT(*) AS headcount FROM people GROUP BY org_unit
),
rows_of_both AS (
    SELECT
        CAST(DATE_TRUNC('month', c.date) AS DATE) AS month_start,
        c.user_id,
        c.user_email,
        c.amount,
        c.list_amount,
        CAST(NULL AS BIGINT) AS total_tokens
    FROM user_cost_report AS c
    UNION ALL
    SELECT
        CAST(DATE_TRUNC('month', u.date) AS DATE) AS month_start,
        u.user_id,
        u.user_email,
        CAST(NULL AS DECIMAL(38, 9)) AS amount,
        CAST(NULL AS DECIMAL(38, 9)) AS list_amount,
        u.total_tokens
    FROM user_usage_report AS u
),
placed AS (
    -- matched on user_id first: an email can change, the id does not
    SELECT
        r.month_start,
        COALESCE(by_id.org_unit, by_email.org_unit, '(not in org chart)') AS org_unit,
        r.user_id,
        r.amount,
        r.list_amount,
        r.total_tokens
    FROM rows_of_both AS r
    LEFT JOIN people AS by_id ON by_id.user_id = r.user_id
    LEFT JOIN people AS by_email ON by_email.email = LOWER(r.user_email)
),
per_unit AS (
    SELECT
        month_start,
        org_unit,
        COUNT(DISTINCT user_id) AS users_with_usage,
        SUM(amount) AS amount,
        SUM(list_amount) AS list_amount,
        CAST(SUM(total_tokens) AS BIGINT) AS total_tokens
    FROM placed
    GROUP BY month_start, org_unit
),
grid AS (
    -- every org unit in every month, so that a unit that spent nothing shows 0 rather than no row
    SELECT m.month_start, u.org_unit, u.headcount
    FROM (SELECT DISTINCT month_start FROM placed) AS m
    CROSS JOIN units AS u
    UNION ALL
    SELECT DISTINCT month_start, org_unit, CAST(NULL AS BIGINT) AS headcount
    FROM placed
    WHERE org_unit = '(not in org chart)'
)
SELECT
    g.month_start,
    g.org_unit,
    g.headcount,
    COALESCE(p.users_with_usage, 0) AS users_with_usage,
    COALESCE(p.amount, 0) AS amount,
    COALESCE(p.list_amount, 0) AS list_amount,
    COALESCE(p.total_tokens, 0) AS total_tokens,
    CAST(COALESCE(p.amount, 0) / NULLIF(g.headcount, 0) AS DECIMAL(38, 9)) AS amount_per_head
FROM grid AS g
LEFT JOIN per_unit AS p
    ON p.month_start = g.month_start AND p.org_unit = g.org_unit
