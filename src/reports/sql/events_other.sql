-- events, small counts: the visitors (visitor-days) of the custom events whose names were
-- folded into the (other) row, each visitor-day once however many of them it sent.
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), then the folded names (a tuple).
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT uniqExact(toDate(ts, zone), visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name NOT IN ('pageview', 'engagement')
    AND name IN ?
