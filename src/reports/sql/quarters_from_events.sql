-- The ten busiest 15-minute windows of a range by pageviews, computed from events, for
-- filtered requests (the site_quarters view has no filter's column).
-- Parameters, in order: range start and end (UTC seconds, end exclusive), site, each
-- given filter's (filters.sql).
WITH ? AS range_start, ? AS range_end
SELECT
    toUInt32(toStartOfFifteenMinutes(ts)) AS start,
    count() AS views
FROM events
WHERE {event_scope}
    AND name = 'pageview'
GROUP BY start
ORDER BY views DESC, start
LIMIT 10
