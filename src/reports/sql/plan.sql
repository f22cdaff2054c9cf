-- Which site-local days of a range have a current summary: for each day with events,
-- its event count (from the site_quarters view) and the count and version of its newest
-- summary of the current format (0 and 0 when it has none). A day's summary is current
-- when the two counts are equal; days missing here have no events at all.
-- Parameters, in order: time zone, site, range start and end (UTC seconds, end exclusive),
-- site, time zone, first and last day (YYYY-MM-DD), summary format.
SELECT
    toUInt16(day) AS day_number,
    events,
    summarized_events,
    latest_version
FROM
(
    SELECT toDate(quarter, ?) AS day, sum(events) AS events
    FROM site_quarters
    WHERE site = ? AND quarter >= toDateTime(?, 'UTC') AND quarter < toDateTime(?, 'UTC')
    GROUP BY day
) AS counted
ANY LEFT JOIN
(
    SELECT day, argMax(events, version) AS summarized_events, max(version) AS latest_version
    FROM summary_days
    WHERE site = ? AND tz = ? AND day >= toDate(?) AND day <= toDate(?) AND format = ?
    GROUP BY day
) AS summarized
USING day
ORDER BY day_number
