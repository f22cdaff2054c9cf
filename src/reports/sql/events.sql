-- events: the custom events of the range (every name but pageview and engagement, so
-- outbound and download too) that the request's filters keep, per name: how many, and
-- their visitors (visitor-days: distinct visitor hashes per site-local day, summed).
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), as event_scope.sql says.
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT
    name,
    count() AS events,
    uniqExact(toDate(ts, zone), visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name NOT IN ('pageview', 'engagement')
GROUP BY name
ORDER BY events DESC, visitors DESC, name
