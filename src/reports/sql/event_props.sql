-- events with breakdown=prop.KEY: one custom event's events of the range that the
-- request's filters keep and that carry property KEY, per value of that property: how
-- many, and their visitors (visitor-days).
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive), the
-- event's name, the property name, site, each given filter's (filters.sql).
WITH ? AS zone, ? AS range_start, ? AS range_end, ? AS breakdown_event, ? AS breakdown_key
SELECT
    prop_values[indexOf(prop_keys, breakdown_key)] AS value,
    count() AS events,
    uniqExact(toDate(ts, zone), visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name = breakdown_event
    AND has(prop_keys, breakdown_key)
GROUP BY value
ORDER BY events DESC, visitors DESC, value
