-- sites: the sites footfall accepts events for. Every collector node reads it, so a site
-- added on one node is served by all. Rows are versioned: the newest version of a domain
-- wins (read with FINAL or argMax).
--   domain      the site's domain (example.com); events' page hosts must be it or a
--               subdomain of it
--   timezone    IANA time zone the site's reports use (Europe/London)
--   origins     further origins allowed to send events for the site
--               (https://example.net), beyond the domain and its subdomains
--   deleted     1 when the site was removed
--   version     milliseconds since the epoch when this version was written
CREATE TABLE IF NOT EXISTS {database}.sites {on_cluster}
(
    domain String,
    timezone String,
    origins Array(String),
    deleted UInt8,
    version UInt64
)
ENGINE = {engine:ReplacingMergeTree(version)}
ORDER BY domain
