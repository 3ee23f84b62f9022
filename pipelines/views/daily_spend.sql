-- Organization-wide spend, tokens and requests per day, product and model, from cost_report and usage_report.
-- One row per (date, product, model) with cost or usage: cost summed over cost types (tokens, web search, code
-- execution) and token types, tokens and requests from the usage report. The reports leave product or model
-- NULL for traffic they cannot attribute (API keys): such traffic is a group of its own, labelled
-- `(unattributed)` so that BI tools can group and filter on it (`other` is the API's own product for
-- automation). Money is exact, in US dollars. A token type the API did not report counts as none.
-- columns:
--   date (date): The UTC day
--   product (text): chat, claude_code, cowork, office_agent, claude_in_chrome, claude_design, claude_tag, other, or (unattributed)
--   model (text): Model, or (unattributed)
--   amount (decimal): Spend in US dollars after negotiated discounts, before credits (NULL without cost rows)
--   list_amount (decimal): Spend at list price in US dollars (NULL without cost rows)
--   discount_percent (double): (1 − amount ÷ list_amount) × 100 (NULL when list_amount is 0 or NULL)
--   requests (bigint): Requests (NULL without usage rows)
--   input_tokens (bigint): Input tokens not read from or written to the cache
--   cache_creation_tokens (bigint): Input tokens written to the cache (5-minute and 1-hour)
--   cache_read_tokens (bigint): Input tokens read from the cache
--   output_tokens (bigint): Output tokens
--   total_tokens (bigint): input + cache creation + cache read + output tokens
--   web_search_requests (bigint): Web search requests
WITH cost AS (
    SELECT
        date,
        COALESCE(product, '(unattributed)') AS product,
        COALESCE(model, '(unattributed)') AS model,
        SUM(amount) AS amount,
        SUM(list_amount) AS list_amount
    FROM cost_report
    GROUP BY date, COALESCE(product, '(unattributed)'), COALESCE(model, '(unattributed)')
),
usage AS (
    SELECT
        date,
        COALESCE(product, '(unattributed)') AS product,
        COALESCE(model, '(unattributed)') AS model,
        CAST(SUM(requests) AS BIGINT) AS requests,
        CAST(SUM(COALESCE(uncached_input_tokens, 0)) AS BIGINT) AS input_tokens,
        CAST(SUM(COALESCE(cache_creation_ephemeral_5m_input_tokens, 0)
                 + COALESCE(cache_creation_ephemeral_1h_input_tokens, 0)) AS BIGINT) AS cache_creation_tokens,
        CAST(SUM(COALESCE(cache_read_input_tokens, 0)) AS BIGINT) AS cache_read_tokens,
        CAST(SUM(COALESCE(output_tokens, 0)) AS BIGINT) AS output_tokens,
        CAST(SUM(server_tool_use_web_search_requests) AS BIGINT) AS web_search_requests
    FROM usage_report
    GROUP BY date, COALESCE(product, '(unattributed)'), COALESCE(model, '(unattributed)')
)
-- The labels are never NULL, so a plain equality join matches unattributed traffic too (NULL = NULL would not)
SELECT
    COALESCE(c.date, u.date) AS date,
    COALESCE(c.product, u.product) AS product,
    COALESCE(c.model, u.model) AS model,
    c.amount,
    c.list_amount,
    (1 - CAST(c.amount AS DOUBLE) / NULLIF(CAST(c.list_amount AS DOUBLE), 0)) * 100 AS discount_percent,
    u.requests,
    u.input_tokens,
    u.cache_creation_tokens,
    u.cache_read_tokens,
    u.output_tokens,
    u.input_tokens + u.cache_creation_tokens + u.cache_read_tokens + u.output_tokens AS total_tokens,
    u.web_search_requests
FROM cost AS c
FULL OUTER JOIN usage AS u
    ON u.date = c.date AND u.product = c.product AND u.model = c.model
