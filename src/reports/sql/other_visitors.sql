-- Small counts: the visitors of a breakdown's (other) row, exactly. Per site-local day,
-- the distinct visitors among the events the breakdown counts ({counted}) whose key
-- ({key}, the breakdown's key columns) is one of the folded rows, so a visitor seen in
-- two folded rows on one day counts once, as the site's own total counts them; summed
-- over days by the caller (visitors are visitor-days). The folded rows come as a list
-- of keys ({in} is IN), or as the list of the rows kept ({in} is NOT IN), whichever is
-- shorter. Every local day of the range with counted events has a row, folded or not,
-- so the caller sees which days still have events (retention empties the oldest).
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- the keys (a tuple), site, each given filter's (filters.sql).
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT
    toUInt16(toDate(ts, zone)) AS day_number,
    uniqExactIf(visitor, ({key}) {in} ?) AS visitors
FROM events
WHERE {event_scope}
    AND {counted}
GROUP BY day_number
