-- Stores one day's hours (the hours_by_day query, inlined below) in hour_totals.
-- Parameters, in order: site, time zone, version, then those of hours_by_day.
INSERT INTO hour_totals (site, tz, version, day, hour, views, visitors)
SELECT ?, ?, ?, day, hour, views, visitors
FROM ({by_day})
