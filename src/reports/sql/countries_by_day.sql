-- Countries per site-local day, computed from events: pageviews and visitors by the
-- country derived from the browser's time zone (empty when unknown).
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), as event_scope.sql says.
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT
    toDate(ts, zone) AS day,
    country,
    count() AS views,
    uniqExact(visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name = 'pageview'
GROUP BY day, country
