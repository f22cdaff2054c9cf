-- The whole site per day over the days [first, end) that have a current summary, from
-- day_totals.
-- Parameters, in order: site, time zone, first day, end day (YYYY-MM-DD, end exclusive),
-- the same four again for summary_days and the summary format.
SELECT
    day,
    views,
    visitors
FROM day_totals
WHERE {current_summary}
