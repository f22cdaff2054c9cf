-- The whole site per local hour, computed from events: pageviews and visitors. `hour` is
-- the local hour's start as a UTC instant, so an hour repeated at a DST change is two rows.
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), as event_scope.sql says.
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT
    toDate(ts, zone) AS day,
    toStartOfHour(ts, zone) AS hour,
    count() AS views,
    uniqExact(visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name = 'pageview'
GROUP BY day, hour
