-- Page views by engaged time and read depth over a range computed from events:
-- engagement_by_day (inlined below) summed over its days.
-- Parameters: those of engagement_by_day.
SELECT
    path,
    seconds,
    read_through,
    sum(views) AS views
FROM ({by_day})
GROUP BY path, seconds, read_through
