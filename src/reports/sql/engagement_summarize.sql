-- Stores one day's page views by engaged time and read depth (the engagement_by_day
-- query, inlined below) in day_page_engagement.
-- Parameters, in order: site, time zone, version, then those of engagement_by_day.
INSERT INTO day_page_engagement (site, tz, version, day, path, seconds, read_through, views)
SELECT ?, ?, ?, day, path, seconds, read_through, views
FROM ({by_day})
