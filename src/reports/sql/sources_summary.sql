-- Sources over the days [first, end) that have a current summary, from day_sources.
-- Parameters, in order: site, time zone, first day, end day (YYYY-MM-DD, end exclusive),
-- the same four again for summary_days, source filter three times.
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
    AND (? = '' OR source_class = ? OR referrer_host = ?)
GROUP BY referrer_host, source_class, utm_source, utm_medium, utm_campaign
