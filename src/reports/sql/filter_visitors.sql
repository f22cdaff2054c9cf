-- Small-count protection of filtered requests: the distinct visitors whose pageviews
-- match all of the request's filters in its range (the realtime window for realtime), over the
-- same shared condition every report's events side uses, so every filter a report
-- applies is counted. A filtered request by a report token is refused when this is
-- below reports.min_visitors.
-- Parameters, in order: time zone (unused here; the parameters are those of every
-- *_by_day query, bound by sql::bind_events), range start and end (UTC seconds, end
-- exclusive), site, each given filter's (filters.sql), as event_scope.sql says.
WITH ? AS zone, ? AS range_start, ? AS range_end
SELECT uniqExact(visitor) AS visitors
FROM events
WHERE {event_scope}
    AND name = 'pageview'
