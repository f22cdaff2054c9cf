-- The ten busiest 15-minute windows of a range by pageviews, computed from events, for
-- requests with a path or source filter (the site_quarters view has neither).
-- Parameters, in order: site, range start and end (UTC seconds, end exclusive), path
-- prefix, source filter three times (empty matches everything).
SELECT
    toUInt32(toStartOfFifteenMinutes(ts)) AS start,
    count() AS views
FROM events
WHERE site = ?
    AND ts >= toDateTime(?, 'UTC') AND ts < toDateTime(?, 'UTC')
    AND name = 'pageview'
    AND startsWith(path, ?)
    AND (? = '' OR source_class = ? OR referrer_host = ?)
GROUP BY start
ORDER BY views DESC, start
LIMIT 10
