-- content-discovery, step 2: for the pages of step 1, per page and site-local day, the
-- pageviews and visitors in the first 24 hours and the first 7 days from the page's
-- start, how the 7-day views arrived (source class), and the 7-day visitors who were
-- returning visitors. Reads page_views ({table}), ordered by page and time, so it reads
-- little more than these pages' rows of the range; with a filter whose column page_views
-- lacks (sql::PAGE_VIEWS_FILTERS), {table} is events and {pageviews} keeps its pageviews.
-- The request's filters apply through event_scope.sql, over the windows' range (so event
-- and prop.KEY look for events there). {page} is `path` (a row per page and day), or
-- '(other)' for small counts' (other) row: one row per day for all the pages given, so
-- a visitor of two of them on one day counts once.
-- Parameters, in order: time zone, range start and end covering every page's 7 days
-- (UTC seconds, end exclusive), the pages' paths and their starts (two arrays, same
-- order, for transform), the paths again (a tuple), site, each given filter's
-- (filters.sql).
WITH ? AS zone
SELECT
    page AS path,
    toDate(ts, zone) AS day,
    countIf(toUInt32(ts) < start + 86400) AS views_24h,
    uniqExactIf(visitor, toUInt32(ts) < start + 86400) AS visitors_24h,
    count() AS views_7d,
    uniqExact(visitor) AS visitors_7d,
    uniqExactIf(visitor, returning = 1) AS returning_visitors_7d,
    countIf(source_class = 'internal') AS internal,
    countIf(source_class = 'search') AS search,
    countIf(source_class = 'social') AS social,
    countIf(source_class = 'other') AS other,
    countIf(source_class = 'direct') AS direct
FROM
(
    WITH ? AS range_start, ? AS range_end
    SELECT ts, {page} AS page, visitor, returning, source_class, transform(path, ?, ?, toUInt32(0)) AS start
    FROM {table}
    WHERE path IN ?
        AND {event_scope}
        {pageviews}
)
WHERE toUInt32(ts) >= start AND toUInt32(ts) < start + 604800
GROUP BY page, day
