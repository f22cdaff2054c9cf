-- day_page_histograms: day_page_engagement (0017_page_engagement.sql) with one row per
-- path and day instead of one per path, day, engaged second and read-through: the same
-- histogram as two arrays, which `sumMap` adds up over days. top-content reads at most as
-- many rows here as in day_pages (12 times fewer than in day_page_engagement on the
-- benchmark's month; docs/benchmarks.md).
-- A page view is its pageview event and the engagement events with its `pageview` hash on
-- the same site-local day; its engaged time is the sum of their engaged_ms, its read depth
-- their largest `scroll`. Only page views with an id and with at least one engaged second
-- or a read depth of 75 or more are counted; a path's other views (day_pages.views less
-- these) had 0 s and did not read through. No visitor hashes.
--   site, tz, day, version
--                  as in the other day summaries (0007_report_rollups.sql)
--   path           the page views' path
--   seconds        the engaged times in whole seconds (rounded down) that the day's page
--                  views of the path had, ascending, each once (0 for views that only
--                  read through)
--   views          how many of those page views had each of `seconds` (same length)
--   read_through   how many of those page views had a read depth of 75 or more
CREATE TABLE IF NOT EXISTS {database}.day_page_histograms {on_cluster}
(
    site LowCardinality(String),
    tz LowCardinality(String),
    day Date,
    version UInt64,
    path String,
    seconds Array(UInt32),
    views Array(UInt64),
    read_through UInt64
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(day)
ORDER BY (site, tz, day, version, path);

-- day_page_engagement is no longer read or written: the summaries of format 1 (the only
-- ones it holds) count as unsummarized now (`summarize::FORMAT` 2, with
-- day_page_histograms), so reports read those days' events until the summarizer has
-- summarized them again.
DROP TABLE IF EXISTS {database}.day_page_engagement {on_cluster}
