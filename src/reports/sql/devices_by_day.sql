-- Devices per site-local day, computed from events: pageviews and visitors by browser
-- family, operating system and device class.
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), as event_scope.sql says.
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT
    toDate(ts, zone) AS day,
    browser,
    os,
    device,
    count() AS views,
    uniqExact(visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name = 'pageview'
GROUP BY day, browser, os, device
