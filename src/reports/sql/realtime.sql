-- realtime: pageviews and distinct visitors in the last 5 minutes, from events (a window
-- this short and this fresh is cheap to read and no rollup is finer than 15 minutes).
-- Parameters, in order: site, window start and end (UTC seconds, end exclusive), path
-- prefix, source filter three times (empty matches everything).
SELECT
    count() AS views,
    uniqExact(visitor) AS visitors
FROM events
WHERE site = ?
    AND ts >= toDateTime(?, 'UTC') AND ts < toDateTime(?, 'UTC')
    AND name = 'pageview'
    AND startsWith(path, ?)
    AND (? = '' OR source_class = ? OR referrer_host = ?)
