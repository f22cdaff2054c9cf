-- content-discovery, step 1: the pages whose start (the earliest publish time the beacon
-- sent or the content registry holds, else the first view) falls in the range, newest
-- first, from page_first_seen and the registry (content): registered pages are listed
-- even when nobody viewed them. published is 4294967295 (the largest DateTime) for pages
-- without a publish time, first_seen for pages nobody viewed; registered is 1 for pages
-- in the registry; title is the registry's newest non-empty title ('' when none).
-- A page without a publish time counts as new only when first seen at least 7 days after
-- the site's first view: before that, a first view says when footfall was installed, not
-- when the page was published.
-- The filters placeholder: the conditions of the given path and page filters (filters.sql), which
-- narrow the list of pages; the other filters narrow what discovery_windows counts.
-- Parameters, in order: site and each given path or page filter's value, both again
-- (for the registry), range start and end (UTC seconds, end exclusive), site again, row
-- limit.
SELECT
    path,
    first_seen,
    published_at,
    if(published_at = 4294967295, first_seen, published_at) AS start,
    registered,
    title
FROM
(
    SELECT
        path,
        min(first_seen) AS first_seen,
        min(published_at) AS published_at,
        max(registered) AS registered,
        max(page_title) AS title
    FROM
    (
        SELECT
            path,
            toUInt32(minMerge(first_view)) AS first_seen,
            toUInt32(minMerge(published)) AS published_at,
            toUInt8(0) AS registered,
            '' AS page_title
        FROM page_first_seen
        WHERE site = ?
            {filters}
        GROUP BY path
        UNION ALL
        SELECT
            path,
            toUInt32(4294967295) AS first_seen,
            toUInt32(min(published)) AS published_at,
            toUInt8(1) AS registered,
            argMaxIf(title, registered_at, title != '') AS page_title
        FROM (SELECT path, published, title, registered AS registered_at FROM content WHERE site = ? {filters})
        GROUP BY path
    )
    GROUP BY path
)
WHERE start >= ? AND start < ?
    AND (published_at != 4294967295 OR first_seen >= (
        SELECT toUInt32(minMerge(first_view)) + 604800 FROM page_first_seen WHERE site = ?
    ))
ORDER BY start DESC, path
LIMIT ?
