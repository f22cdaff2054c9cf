-- Stores one day's site totals (the days_by_day query, inlined below) in day_totals.
-- Parameters, in order: site, time zone, version, then those of days_by_day.
INSERT INTO day_totals (site, tz, version, day, views, visitors)
SELECT ?, ?, ?, day, views, visitors
FROM ({by_day})
