-- Page views by engaged time and read depth per site-local day and path, computed from
-- events: the part of top-content's engagement figures that no current summary covers,
-- and what the summarizer stores in day_page_histograms. A page view is its pageview
-- event with the engagement events of the same `pageview` hash that day; seconds is
-- their engaged_ms summed, in whole seconds (rounded down); read_through is 1 when their
-- largest scroll is 75 or more. Only page views with an id and with a second or a read
-- through are counted (the others are the path's views less these), so only those with
-- an engagement event: the subquery narrows the events to their page views first, which
-- spares grouping every page view (most have none).
-- Parameters, in order: time zone, range start and end (UTC seconds, end exclusive),
-- site, each given filter's (filters.sql), as event_scope.sql says; then the same again
-- for the subquery (sql::Dataset::bind_events).
SELECT
    day,
    page AS path,
    seconds,
    read_through,
    sum(pageviews) AS views
FROM
(
    WITH ? AS zone, ? AS range_start, ? AS range_end
    SELECT
        toDate(ts, zone) AS day,
        pageview,
        anyIf(path, name = 'pageview') AS page,
        countIf(name = 'pageview') AS pageviews,
        toUInt32(intDiv(sumIf(toUInt64(engaged_ms), name = 'engagement'), 1000)) AS seconds,
        toUInt8(maxIf(scroll, name = 'engagement') >= 75) AS read_through
    FROM events
    WHERE {event_scope}
        AND name IN ('pageview', 'engagement')
        AND pageview != 0
        AND pageview IN
        (
            WITH ? AS zone, ? AS range_start, ? AS range_end
            SELECT pageview
            FROM events
            WHERE {event_scope}
                AND name = 'engagement'
                AND pageview != 0
        )
    GROUP BY day, pageview
    HAVING pageviews > 0 AND (seconds > 0 OR read_through = 1)
)
GROUP BY day, page, seconds, read_through
