-- Countries over the days [first, end) that have a current summary, from day_countries.
-- Parameters, in order: site, time zone, first day, end day (YYYY-MM-DD, end exclusive),
-- the same four again for summary_days and the summary format, each given country filter's (filters.sql).
SELECT
    country,
    sum(views) AS views,
    sum(visitors) AS visitors
FROM day_countries
WHERE {current_summary}
    {filters}
GROUP BY country
