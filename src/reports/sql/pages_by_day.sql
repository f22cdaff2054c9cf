-- Pages per site-local day, computed from events: the part of top-content that no
-- current summary covers, and what the summarizer stores in day_pages.
-- visitors are distinct visitor hashes per day; engaged_ms sums the engagement events.
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), as event_scope.sql says.
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT
    toDate(ts, zone) AS day,
    path,
    countIf(name = 'pageview') AS views,
    uniqExactIf(visitor, name = 'pageview') AS visitors,
    countIf(name = 'pageview' AND entry = 1) AS entries,
    sumIf(toUInt64(engaged_ms), name = 'engagement') AS engaged
FROM events
WHERE {event_scope}
    AND name IN ('pageview', 'engagement')
GROUP BY day, path
