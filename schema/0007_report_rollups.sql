-- Report rollups: what the reports read instead of `events` wherever they can.
-- README.md ("Reports: how they are computed") says which report reads what, and why.
--
-- Two kinds of table:
--
-- 1. Materialised views, filled by ClickHouse on every INSERT into `events`, always current:
--
--    site_quarters: events per site and 15 minutes (UTC quarter-hours; every time zone's
--    hour and day boundaries fall on one). The busiest 15-minute windows read `pageviews`;
--    the report planner compares `events` per site-local day with `summary_days` to know
--    which day summaries are current.
--      site       site domain
--      quarter    start of the 15 minutes, UTC
--      events     events of any name in the quarter
--      pageviews  pageview events in the quarter
--
--    page_first_seen: per site and path, when it was first viewed and the earliest publish
--    time the beacon sent for it (content-discovery picks its pages from here).
--      site        site domain
--      path        page path
--      first_view  minState(ts) of its pageviews
--      published   minState of its `published`; 2106-02-07 06:28:15 (the largest
--                  DateTime) when no pageview carried one
--
--    page_views: the pageviews again, ordered by page and time, so one page's views of a
--    week are a few granules (content-discovery reads its pages' first 7 days here; in
--    `events`, ordered by day then page, they are spread over every granule of each
--    day). Small granules (1024 rows), since its reads are narrow.
--      site, path, ts, visitor, returning, source_class, referrer_host
--                  as in `events`
--
-- 2. Day summaries, written by footfall's summarizer (not a view: a visitor count per day
--    is a distinct count, which a view cannot keep as a number). Once a site-local day has
--    ended, footfall computes that day's exact numbers from `events` and stores them with
--    a new `version`; then it records the day in `summary_days`. Reports use a day's
--    summary only while `summary_days.events` still equals the day's event count in
--    `site_quarters`; otherwise (late events, backfills) they read `events` for that day.
--    Older versions stay in the tables and are ignored.
--
--    Common columns:
--      site     site domain
--      tz       the IANA time zone the day is local to (the site's at summary time)
--      day      the local date
--      version  when the summary was computed (microseconds since the epoch)
--      views    pageviews
--      visitors distinct visitor hashes that day (exact)
--
--    summary_days: one row per summarized day and version.
--      events   events of the day when it was summarized (from site_quarters)
--    day_pages: per path. entries = pageviews that began a session; engaged_ms = the
--      engaged_ms of the day's `engagement` events on the path.
--    day_sources: per referrer host, source class and utm_source/medium/campaign of the
--      pageviews that began a session. entries = those pageviews (sessions).
--    day_devices: per browser, os and device class.
--    day_countries: per country.
--    day_totals: the whole site, per day.
--    hour_totals: the whole site, per local hour; `hour` is the hour's start as a UTC
--      instant (a repeated hour at a DST change is two rows).
CREATE TABLE IF NOT EXISTS {database}.site_quarters {on_cluster}
(
    site LowCardinality(String),
    quarter DateTime('UTC'),
    events UInt64,
    pageviews UInt64
)
ENGINE = {engine:SummingMergeTree()}
PARTITION BY toYYYYMM(quarter)
ORDER BY (site, quarter);

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.site_quarters_mv {on_cluster}
TO {database}.site_quarters
AS SELECT
    site,
    toStartOfFifteenMinutes(ts) AS quarter,
    count() AS events,
    countIf(name = 'pageview') AS pageviews
FROM {database}.events
GROUP BY site, quarter;

CREATE TABLE IF NOT EXISTS {database}.page_first_seen {on_cluster}
(
    site LowCardinality(String),
    path String,
    first_view AggregateFunction(min, DateTime('UTC')),
    published AggregateFunction(min, DateTime('UTC'))
)
ENGINE = {engine:AggregatingMergeTree()}
ORDER BY (site, path);

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.page_first_seen_mv {on_cluster}
TO {database}.page_first_seen
AS SELECT
    site,
    path,
    minState(ts) AS first_view,
    minState(ifNull(published, toDateTime(4294967295, 'UTC'))) AS published
FROM {database}.events
WHERE name = 'pageview'
GROUP BY site, path;

CREATE TABLE IF NOT EXISTS {database}.page_views {on_cluster}
(
    site LowCardinality(String),
    path String,
    ts DateTime('UTC'),
    visitor UInt64,
    returning UInt8,
    source_class LowCardinality(String),
    referrer_host String
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(ts)
ORDER BY (site, path, ts)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.page_views_mv {on_cluster}
TO {database}.page_views
AS SELECT site, path, ts, visitor, returning, source_class, referrer_host
FROM {database}.events
WHERE name = 'pageview';

-- Events stored before this migration: views only see new inserts, so fill the three
-- tables once from what is already there. (When upgrading a cluster that holds events,
-- run `footfall migrate` on one node before starting the others, or this runs twice and
-- site_quarters and page_views hold those events twice.)
INSERT INTO {database}.site_quarters
SELECT site, toStartOfFifteenMinutes(ts) AS quarter, count() AS events, countIf(name = 'pageview') AS pageviews
FROM {database}.events
GROUP BY site, quarter;

INSERT INTO {database}.page_first_seen
SELECT site, path, minState(ts) AS first_view, minState(ifNull(published, toDateTime(4294967295, 'UTC'))) AS published
FROM {database}.events
WHERE name = 'pageview'
GROUP BY site, path;

INSERT INTO {database}.page_views
SELECT site, path, ts, visitor, returning, source_class, referrer_host
FROM {database}.events
WHERE name = 'pageview';

CREATE TABLE IF NOT EXISTS {database}.summary_days {on_cluster}
(
    site LowCardinality(String),
    tz LowCardinality(String),
    day Date,
    version UInt64,
    events UInt64
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(day)
ORDER BY (site, tz, day, version);

CREATE TABLE IF NOT EXISTS {database}.day_pages {on_cluster}
(
    site LowCardinality(String),
    tz LowCardinality(String),
    day Date,
    version UInt64,
    path String,
    views UInt64,
    visitors UInt64,
    entries UInt64,
    engaged_ms UInt64
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(day)
ORDER BY (site, tz, day, version, path);

CREATE TABLE IF NOT EXISTS {database}.day_sources {on_cluster}
(
    site LowCardinality(String),
    tz LowCardinality(String),
    day Date,
    version UInt64,
    referrer_host String,
    source_class LowCardinality(String),
    utm_source String,
    utm_medium String,
    utm_campaign String,
    entries UInt64,
    visitors UInt64
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(day)
ORDER BY (site, tz, day, version, source_class, referrer_host);

CREATE TABLE IF NOT EXISTS {database}.day_devices {on_cluster}
(
    site LowCardinality(String),
    tz LowCardinality(String),
    day Date,
    version UInt64,
    browser LowCardinality(String),
    os LowCardinality(String),
    device LowCardinality(String),
    views UInt64,
    visitors UInt64
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(day)
ORDER BY (site, tz, day, version, browser, os, device);

CREATE TABLE IF NOT EXISTS {database}.day_countries {on_cluster}
(
    site LowCardinality(String),
    tz LowCardinality(String),
    day Date,
    version UInt64,
    country LowCardinality(String),
    views UInt64,
    visitors UInt64
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(day)
ORDER BY (site, tz, day, version, country);

CREATE TABLE IF NOT EXISTS {database}.day_totals {on_cluster}
(
    site LowCardinality(String),
    tz LowCardinality(String),
    day Date,
    version UInt64,
    views UInt64,
    visitors UInt64
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(day)
ORDER BY (site, tz, day, version);

CREATE TABLE IF NOT EXISTS {database}.hour_totals {on_cluster}
(
    site LowCardinality(String),
    tz LowCardinality(String),
    day Date,
    version UInt64,
    hour DateTime('UTC'),
    views UInt64,
    visitors UInt64
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(day)
ORDER BY (site, tz, day, version, hour)
