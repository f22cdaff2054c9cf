-- not-stored: per reason, the events of the site that intake answered but did not store
-- (bots, refusals, foreign origins, missing consent), from the not_stored counts, which
-- are kept per UTC hour: the hours that start within the range count.
-- Parameters, in order: site, range start and end (UTC seconds, end exclusive).
SELECT
    reason,
    toUInt64(sum(events)) AS events
FROM not_stored
WHERE site = ? AND hour >= toDateTime(?, 'UTC') AND hour < toDateTime(?, 'UTC')
GROUP BY reason
ORDER BY events DESC, reason
