-- content-discovery, step 4: for the pages of step 1, where their first 7 days' readers
-- came from: kind 'external', the referrer hosts of their entries (pageviews that began
-- a session) from other sites, and kind 'internal', the referrer paths of their
-- pageviews from a link on the site; each source with its visitors (visitor-days: a
-- visitor hash once per site-local day). Sources with fewer than min_visitors visitors
-- are left out (small counts: never named); of the others, the 5 with the most visitors
-- per page and kind, then by source. Reads events (page_views has neither entry nor
-- referrer_path), with the request's filters (event_scope.sql).
-- Parameters, in order: time zone, range start and end covering every page's 7 days
-- (UTC seconds, end exclusive), the pages' paths and their starts (two arrays, same
-- order, for transform), the paths again (a tuple), site, each given filter's
-- (filters.sql), min_visitors.
SELECT path, kind, source, uniqExact(visitor, day) AS visitors
FROM
(
    WITH ? AS zone, ? AS range_start, ? AS range_end
    SELECT path, visitor, toDate(ts, zone) AS day, toUInt32(ts) AS at, transform(path, ?, ?, toUInt32(0)) AS start,
        if(source_class = 'internal', 'internal', 'external') AS kind,
        if(source_class = 'internal', referrer_path, referrer_host) AS source
    FROM events
    WHERE name = 'pageview' AND path IN ?
        AND {event_scope}
        AND ((source_class = 'internal' AND referrer_path != '')
            OR (source_class != 'internal' AND entry = 1 AND referrer_host != ''))
)
WHERE at >= start AND at < start + 604800
GROUP BY path, kind, source
HAVING visitors >= ?
ORDER BY path, kind, visitors DESC, source
LIMIT 5 BY path, kind
