-- Stores one day's sources (the sources_by_day query, inlined below) in day_sources.
-- Parameters, in order: site, time zone, version, then those of sources_by_day.
INSERT INTO day_sources
    (site, tz, version, day, referrer_host, source_class, utm_source, utm_medium, utm_campaign, entries, visitors)
SELECT ?, ?, ?, day, referrer_host, source_class, utm_source, utm_medium, utm_campaign, entries_of_day, visitors
FROM ({by_day})
