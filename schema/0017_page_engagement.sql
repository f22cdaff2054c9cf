-- day_page_engagement: the engaged time and read depth of each day's page views, as a
-- histogram, written by the summarizer beside day_pages (README.md, "Reports: how they
-- are computed"). A page view is its pageview event and the engagement events with its
-- `pageview` hash on the same site-local day; its engaged time is the sum of their
-- engaged_ms, its read depth their largest `scroll`. Counts per whole engaged second add
-- up over days, so the median of a range follows exactly from the sum of its days' rows.
-- Only page views with an id and with at least one engaged second or a read depth of 75
-- or more have a row; a path's other views (day_pages.views less these) had 0 s and did
-- not read through.
--   site, tz, day, version
--                  as in the other day summaries (0007_report_rollups.sql)
--   path           the page view's path
--   seconds        its engaged time in whole seconds (rounded down)
--   read_through   1 when its read depth was 75 or more
--   views          how many of the day's page views of the path had these two values
CREATE TABLE IF NOT EXISTS {database}.day_page_engagement {on_cluster}
(
    site LowCardinality(String),
    tz LowCardinality(String),
    day Date,
    version UInt64,
    path String,
    seconds UInt32,
    read_through UInt8,
    views UInt64
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(day)
ORDER BY (site, tz, day, version, path, seconds, read_through);

-- summary_days.format: which set of day summary tables a summary wrote. Reports and the
-- summarizer use only the summaries of the current format (`summarize::FORMAT`, 1 since
-- day_page_engagement), so a day summarized before this file (format 0, no histogram)
-- counts as unsummarized: reports read its events, and the summarizer's next pass
-- summarizes it again.
ALTER TABLE {database}.summary_days {on_cluster} ADD COLUMN format UInt16
