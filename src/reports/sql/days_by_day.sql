-- The whole site per site-local day, computed from events: pageviews and visitors.
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), as event_scope.sql says.
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT
    toDate(ts, zone) AS day,
    count() AS views,
    uniqExact(visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name = 'pageview'
GROUP BY day
