-- Page views by engaged time and read depth over the days [first, end) that have a
-- current summary, from day_page_engagement.
-- Parameters, in order: site, time zone, first day, end day (YYYY-MM-DD, end exclusive),
-- the same four again for summary_days, the summary format, each given path or page
-- filter's (filters.sql).
SELECT
    path,
    seconds,
    read_through,
    sum(views) AS views
FROM day_page_engagement
WHERE {current_summary}
    {filters}
GROUP BY path, seconds, read_through
