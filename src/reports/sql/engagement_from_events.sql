-- Page views by engaged time and read depth per path over a range computed from events:
-- engagement_by_day (inlined below) summed over its days, as engagement_summary.sql
-- returns them (the histogram as two arrays: engaged seconds ascending, their views).
-- Parameters: those of engagement_by_day.
SELECT
    path,
    tupleElement(histogram, 1) AS seconds,
    tupleElement(histogram, 2) AS views,
    read_through_views AS read_through
FROM
(
    SELECT path, sumMap([seconds], [views]) AS histogram, sumIf(views, read_through = 1) AS read_through_views
    FROM ({by_day})
    GROUP BY path
)
