-- Pages over the days [first, end) that have a current summary, from day_pages.
-- Parameters, in order: site, time zone, first day, end day (YYYY-MM-DD, end exclusive),
-- the same four again for summary_days and the summary format, each given path or page filter's (filters.sql).
SELECT
    path,
    sum(views) AS views,
    sum(visitors) AS visitors,
    sum(entries) AS entries,
    sum(engaged_ms) AS engaged_ms
FROM day_pages
WHERE {current_summary}
    {filters}
GROUP BY path
