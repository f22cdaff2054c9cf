-- Sources per site-local day, computed from events: the pageviews that began a session
-- (entry = 1) by referrer host, source class and utm_source/medium/campaign.
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), as event_scope.sql says.
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT
    toDate(ts, zone) AS day,
    referrer_host,
    source_class,
    utm_source,
    utm_medium,
    utm_campaign,
    count() AS entries_of_day,
    uniqExact(visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name = 'pageview' AND entry = 1
GROUP BY day, referrer_host, source_class, utm_source, utm_medium, utm_campaign
