-- Stores one day's countries (the countries_by_day query, inlined below) in
-- day_countries.
-- Parameters, in order: site, time zone, version, then those of countries_by_day.
INSERT INTO day_countries (site, tz, version, day, country, views, visitors)
SELECT ?, ?, ?, day, country, views, visitors
FROM ({by_day})
