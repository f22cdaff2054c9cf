-- events with breakdown=prop.KEY, small counts: the visitors (visitor-days) of the
-- property values folded into the (other) row, each visitor-day once.
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive), the
-- event's name, the property name, site, each given filter's (filters.sql), then the
-- folded values (a tuple).
WITH ? AS zone, ? AS range_start, ? AS range_end, ? AS breakdown_event, ? AS breakdown_key
SELECT uniqExact(toDate(ts, zone), visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name = breakdown_event
    AND has(prop_keys, breakdown_key)
    AND prop_values[indexOf(prop_keys, breakdown_key)] IN ?
