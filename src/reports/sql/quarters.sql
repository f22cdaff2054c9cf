-- The ten busiest 15-minute windows (clock quarter-hours) of a range by pageviews, from
-- the site_quarters view. Ties go to the earlier window.
-- Parameters, in order: site, range start and end (UTC seconds, end exclusive).
SELECT
    toUInt32(quarter) AS start,
    sum(pageviews) AS views
FROM site_quarters
WHERE site = ? AND quarter >= toDateTime(?, 'UTC') AND quarter < toDateTime(?, 'UTC')
GROUP BY quarter
HAVING views > 0
ORDER BY views DESC, start
LIMIT 10
