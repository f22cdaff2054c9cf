-- Countries per site-local day, computed from events: pageviews and visitors by the
-- country derived from the browser's time zone (empty when unknown).
-- Parameters, in order: time zone, site, range start and end (UTC seconds, end
-- exclusive), path prefix, source filter three times (empty matches everything).
WITH ? AS zone
SELECT
    toDate(ts, zone) AS day,
    country,
    count() AS views,
    uniqExact(visitor) AS visitors
FROM events
WHERE site = ?
    AND ts >= toDateTime(?, 'UTC') AND ts < toDateTime(?, 'UTC')
    AND name = 'pageview'
    AND startsWith(path, ?)
    AND (? = '' OR source_class = ? OR referrer_host = ?)
GROUP BY day, country
