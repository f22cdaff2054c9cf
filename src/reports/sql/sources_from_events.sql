-- Sources over a range computed from events: sources_by_day (inlined below) summed
-- over its days, so visitors count visitor-days, as the summaries do.
-- Parameters: those of sources_by_day.
SELECT
    referrer_host,
    source_class,
    utm_source,
    utm_medium,
    utm_campaign,
    sum(entries_of_day) AS sessions,
    sum(visitors) AS visitors
FROM ({by_day})
GROUP BY referrer_host, source_class, utm_source, utm_medium, utm_campaign
