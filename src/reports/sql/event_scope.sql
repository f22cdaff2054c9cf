-- The events a report reads, inlined where a query says {event_scope} (after WHERE):
-- one site, a UTC range, a path prefix and a source filter. The toDate lines let the
-- primary key (site, toDate(ts), ...) narrow the read to the range's UTC days.
-- Parameters, in order: site, path prefix, source filter three times (empty matches
-- everything); range_start and range_end (UTC seconds, end exclusive) come from the
-- query's WITH. Bound by sql::bind_events.
site = ?
    AND ts >= toDateTime(range_start, 'UTC') AND ts < toDateTime(range_end, 'UTC')
    AND toDate(ts) >= toDate(toDateTime(range_start, 'UTC')) AND toDate(ts) <= toDate(toDateTime(range_end - 1, 'UTC'))
    AND startsWith(path, ?)
    AND (? = '' OR source_class = ? OR referrer_host = ?)
