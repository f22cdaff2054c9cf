-- content-discovery, step 3: for the pages of step 1, how their first 7 days were read:
-- when each page had its 10th and its 100th visitor (visitor-days: a visitor hash counts
-- once per site-local day), the engaged time of each of its pageviews and how many of
-- them were read through. A pageview's engaged time is the sum of engaged_ms of the
-- engagement events with its pageview hash (0 without any: never engaged, or sent
-- without an id); it was read through when the largest scroll of those events is 75 or
-- more. Reads events (page_views has neither the pageview hash nor scroll): the
-- pageviews of the pages' windows, with the request's filters (event_scope.sql), and
-- the engagement events of the same pages up to a day after the windows (the hash lives
-- one UTC day, so that is as late as one can belong to them).
-- tenth_visitor_at and hundredth_visitor_at are UTC seconds, 0 when not reached; engaged_ms
-- is the sorted engaged times of the views (the report takes their median).
-- Parameters, in order: time zone, range start and end covering every page's 7 days
-- (UTC seconds, end exclusive), the pages' paths and their starts (two arrays, same
-- order, for transform), the paths again (a tuple), site, each given filter's
-- (filters.sql); then for the engagement events: site, the paths (a tuple), and the
-- start and end of their range (UTC seconds, end exclusive), twice.
SELECT
    path,
    if(length(firsts) >= 10, firsts[10], toUInt32(0)) AS tenth_visitor_at,
    if(length(firsts) >= 100, firsts[100], toUInt32(0)) AS hundredth_visitor_at,
    engaged AS engaged_ms,
    read_through
FROM
(
    SELECT path, arraySort(groupArray(first_at)) AS firsts, arraySort(groupArrayArray(view_engaged)) AS engaged,
        sum(read_views) AS read_through
    FROM
    (
        SELECT path, visitor, day, min(at) AS first_at, groupArray(engaged) AS view_engaged,
            countIf(depth >= 75) AS read_views
        FROM
        (
            SELECT path, visitor, day, at, engaged, depth
            FROM
            (
                WITH ? AS zone, ? AS range_start, ? AS range_end
                SELECT path, visitor, pageview, toDate(ts, zone) AS day, toUInt32(ts) AS at,
                    transform(path, ?, ?, toUInt32(0)) AS start
                FROM events
                WHERE name = 'pageview' AND path IN ?
                    AND {event_scope}
            ) AS views
            ANY LEFT JOIN
            (
                SELECT pageview, toUInt64(sum(engaged_ms)) AS engaged, max(scroll) AS depth
                FROM events
                WHERE site = ? AND name = 'engagement' AND path IN ? AND pageview != 0
                    AND ts >= toDateTime(?, 'UTC') AND ts < toDateTime(?, 'UTC')
                    AND toDate(ts) >= toDate(toDateTime(?, 'UTC')) AND toDate(ts) <= toDate(toDateTime(?, 'UTC'))
                GROUP BY pageview
            ) AS engagement USING pageview
            WHERE at >= start AND at < start + 604800
        )
        GROUP BY path, visitor, day
    )
    GROUP BY path
)
ORDER BY path
