-- Countries over a range computed from events: countries_by_day (inlined below)
-- summed over its days, so visitors count visitor-days, as the summaries do.
-- Parameters: those of countries_by_day.
SELECT
    country,
    sum(views) AS views,
    sum(visitors) AS visitors
FROM ({by_day})
GROUP BY country
