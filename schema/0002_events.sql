-- events: one row per stored event. Public: product teams query it directly.
-- Nothing in it identifies a person: no IP address, user agent or cookie id is stored;
-- visitor and session are keyed hashes whose key is destroyed after 48 h (DESIGN.md).
--
--   site           site domain as registered with `footfall sites add` (example.com)
--   ts             event time, UTC (server clock; admin backfills may set it)
--   name           event name: pageview, engagement, or a custom event name
--   hostname       host of the page URL, lowercased, no port (blog.example.com)
--   path           path of the page URL, percent-encoded as sent, no query or fragment
--   referrer_host  host of the referrer, empty when there is none
--   referrer_path  path of the referrer, empty when there is none
--   source_class   how the visitor arrived: direct, internal, search, social, other
--   utm_source, utm_medium, utm_campaign, utm_term, utm_content
--                  the page URL's utm_* parameters (empty when absent)
--   visitor        keyed blake3 of (site, cookie id) or (site, IP, user agent), 64 bits;
--                  the same person is the same visitor within one UTC day only
--   session        keyed hash of the visitor and the session's start; a session ends after
--                  30 minutes without events
--   entry          1 for the first pageview of a session
--   returning      1 when the beacon's own cookie says the visitor came before
--   published      the page's publish time from <meta article:published_time>, if sent
--   engaged_ms     visible time on the page in milliseconds (engagement events)
--   screen         screen class from the width: mobile, tablet, laptop, desktop, or empty
--   browser        browser family (Chrome, Firefox, Safari, ...), Other when unknown
--   os             operating system family (Windows, macOS, iOS, Android, Linux, ...)
--   device         device class from the user agent: desktop, mobile, tablet, other
--   country        ISO 3166 alpha-2 code derived from the browser time zone, or empty
--   prop_keys, prop_values
--                  custom properties of the event, as parallel arrays of strings
CREATE TABLE IF NOT EXISTS {database}.events {on_cluster}
(
    site LowCardinality(String),
    ts DateTime('UTC'),
    name LowCardinality(String),
    hostname LowCardinality(String),
    path String,
    referrer_host String,
    referrer_path String,
    source_class LowCardinality(String),
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_term String,
    utm_content String,
    visitor UInt64,
    session UInt64,
    entry UInt8,
    returning UInt8,
    published Nullable(DateTime('UTC')),
    engaged_ms UInt32,
    screen LowCardinality(String),
    browser LowCardinality(String),
    os LowCardinality(String),
    device LowCardinality(String),
    country LowCardinality(String),
    prop_keys Array(String),
    prop_values Array(String)
)
ENGINE = {engine:MergeTree()}
PARTITION BY toYYYYMM(ts)
ORDER BY (site, toDate(ts), name, path, ts)
