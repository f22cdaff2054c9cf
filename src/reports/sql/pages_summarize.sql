-- Stores one day's pages (the pages_by_day query, inlined below) in day_pages.
-- Parameters, in order: site, time zone, version, then those of pages_by_day.
INSERT INTO day_pages (site, tz, version, day, path, views, visitors, entries, engaged_ms)
SELECT ?, ?, ?, day, path, views, visitors, entries, engaged
FROM ({by_day})
