-- The ten busiest 15-minute windows of a range by pageviews, computed from events, for
-- requests with a path or source filter (the site_quarters view has neither).
-- Parameters, in order: range start and end (UTC seconds, end exclusive), site, path
-- prefix, source filter three times (empty matches everything).
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
