-- funnel: per visitor-day (site-local day and visitor hash), how far it got through the
-- funnel's steps in order, each step after the one before within the day (windowFunnel
-- over 86400 seconds, from the first step), among the events of the range the request's
-- filters keep; then the visitor-days per step reached (none reached: left out). The
-- steps placeholder holds one goal.sql condition per step, comma-separated.
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive), per
-- step its event name and path expression (goals::Matcher), site, each given filter's
-- (filters.sql).
SELECT
    level,
    toUInt64(count()) AS visitors
FROM (
    WITH ? AS zone, ? AS range_start, ? AS range_end
    SELECT toDate(ts, zone) AS day, visitor, windowFunnel(86400)(ts, {steps}) AS level
    FROM events
    WHERE {event_scope}
    GROUP BY day, visitor
)
WHERE level > 0
GROUP BY level
ORDER BY level
