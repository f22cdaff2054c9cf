-- Pages over a range computed from events: pages_by_day (inlined below) summed over
-- its days, so visitors count visitor-days, as the summaries do.
-- Parameters: those of pages_by_day.
SELECT
    path,
    sum(views) AS views,
    sum(visitors) AS visitors,
    sum(entries) AS entries,
    sum(engaged) AS engaged_ms
FROM ({by_day})
GROUP BY path
