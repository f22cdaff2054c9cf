-- content-discovery, step 1: the pages whose start (the earliest publish time the beacon
-- sent, else the first view) falls in the range, newest first, from page_first_seen.
-- published is 4294967295 (the largest DateTime) for pages without a publish time.
-- Parameters, in order: site, path prefix, range start and end (UTC seconds, end
-- exclusive), row limit.
SELECT
    path,
    first_seen,
    published_at,
    if(published_at = 4294967295, first_seen, published_at) AS start
FROM
(
    SELECT
        path,
        toUInt32(minMerge(first_view)) AS first_seen,
        toUInt32(minMerge(published)) AS published_at
    FROM page_first_seen
    WHERE site = ? AND startsWith(path, ?)
    GROUP BY path
)
WHERE start >= ? AND start < ?
ORDER BY start DESC, path
LIMIT ?
