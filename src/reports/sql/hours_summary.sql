-- The whole site per local hour over the days [first, end) that have a current summary,
-- from hour_totals.
-- Parameters, in order: site, time zone, first day, end day (YYYY-MM-DD, end exclusive),
-- the same four again for summary_days and the summary format.
SELECT
    day,
    hour,
    views,
    visitors
FROM hour_totals
WHERE {current_summary}
