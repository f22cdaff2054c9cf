-- Page views by engaged time and read depth per path over the days [first, end) that
-- have a current summary, from day_page_histograms: each path's histograms added up by
-- `sumMap`.
-- Parameters, in order: site, time zone, first day, end day (YYYY-MM-DD, end exclusive),
-- the same four again for summary_days, the summary format, each given path or page
-- filter's (filters.sql).
SELECT
    path,
    tupleElement(histogram, 1) AS seconds,
    tupleElement(histogram, 2) AS views,
    read_through_views AS read_through
FROM
(
    SELECT path, sumMap(seconds, views) AS histogram, sum(read_through) AS read_through_views
    FROM day_page_histograms
    WHERE {current_summary}
        {filters}
    GROUP BY path
)
