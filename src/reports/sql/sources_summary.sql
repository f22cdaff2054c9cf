-- Sources over the days [first, end) that have a current summary, from day_sources.
-- Parameters, in order: site, time zone, first day, end day (YYYY-MM-DD, end exclusive),
-- the same four again for summary_days and the summary format, each given source, source_class, utm_source,
-- utm_medium or utm_campaign filter's (filters.sql).
SELECT
    referrer_host,
    source_class,
    utm_source,
    utm_medium,
    utm_campaign,
    sum(entries) AS sessions,
    sum(visitors) AS visitors
FROM day_sources
WHERE {current_summary}
    {filters}
GROUP BY referrer_host, source_class, utm_source, utm_medium, utm_campaign
