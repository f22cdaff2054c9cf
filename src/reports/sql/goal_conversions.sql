-- goals: the conversions of one goal (the goals placeholder holds its condition,
-- goal.sql), or, for the (other) row, of any of the folded goals (their conditions
-- joined by OR): the events that reached it and their visitors (visitor-days), among the
-- events of the range the request's filters keep.
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), then per goal its event name and path
-- expression (goals::Matcher).
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT
    count() AS conversions,
    uniqExact(toDate(ts, zone), visitor) AS visitors
FROM events
WHERE {event_scope}
    AND ({goals})
