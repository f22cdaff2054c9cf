-- events and goals: the visitors of the range (visitor-days) that the request's filters
-- keep, whatever events they sent: what conversion rates divide by.
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), as event_scope.sql says.
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT uniqExact(toDate(ts, zone), visitor) AS visitors
FROM events
WHERE {event_scope}
