-- realtime: pageviews and distinct visitors in the last 5 minutes, from events (a window
-- this short and this fresh is cheap to read and no rollup is finer than 15 minutes).
-- Parameters, in order: window start and end (UTC seconds, end exclusive), site, each
-- given filter's (filters.sql). The primary key narrows
-- the read to the window's UTC day (ts comes after path in it).
WITH ? AS range_start, ? AS range_end
SELECT
    count() AS views,
    uniqExact(visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name = 'pageview'
