-- content-discovery's yardstick: the visitors in the first 24 hours from their start of
-- the pages that started in the 90 days before a listed page (their pages come from
-- discovery_pages.sql), per page and site-local day (visitors are visitor-days; the
-- report adds the days up). Reads what discovery_windows.sql reads ({table},
-- {pageviews} and the filters likewise), only each page's first day.
-- Parameters, in order: time zone, range start and end covering every page's 24 hours
-- (UTC seconds, end exclusive), the pages' paths and their starts (two arrays, same
-- order, for transform), the paths again (a tuple), site, each given filter's
-- (filters.sql).
SELECT path, day, uniqExact(visitor) AS visitors_24h
FROM
(
    WITH ? AS zone, ? AS range_start, ? AS range_end
    SELECT path, visitor, toDate(ts, zone) AS day, toUInt32(ts) AS at, transform(path, ?, ?, toUInt32(0)) AS start
    FROM {table}
    WHERE path IN ?
        AND {event_scope}
        {pageviews}
)
WHERE at >= start AND at < start + 86400
GROUP BY path, day
