-- Stores one day's page views by engaged time and read depth (the engagement_by_day
-- query, inlined below) in day_page_histograms: one row per path, its histogram as the
-- arrays `sumMap` makes of its engaged seconds and their view counts.
-- Parameters, in order: site, time zone, version, then those of engagement_by_day.
INSERT INTO day_page_histograms (site, tz, version, day, path, seconds, views, read_through)
SELECT ?, ?, ?, day, path, tupleElement(histogram, 1), tupleElement(histogram, 2), read_through_views
FROM
(
    SELECT day, path, sumMap([seconds], [views]) AS histogram, sumIf(views, read_through = 1) AS read_through_views
    FROM ({by_day})
    GROUP BY day, path
)
