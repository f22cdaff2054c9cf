-- The events a report reads, inlined where a query names event_scope (after WHERE):
-- one site, a UTC range, then the conditions of the filters the request gives (the
-- filters placeholder: filters.sql, a line per filter given, nothing without). The
-- toDate lines let the primary key (site, toDate(ts), ...) narrow the read to the
-- range's UTC days.
-- Parameters, in order: site, then each given filter's (filters.sql); range_start and
-- range_end (UTC seconds, end exclusive) come from the query's WITH. Bound by
-- sql::bind_events (sql::BindScope).
site = ?
    AND ts >= toDateTime(range_start, 'UTC') AND ts < toDateTime(range_end, 'UTC')
    AND toDate(ts) >= toDate(toDateTime(range_start, 'UTC')) AND toDate(ts) <= toDate(toDateTime(range_end - 1, 'UTC'))
    {filters}
