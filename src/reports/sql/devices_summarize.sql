-- Stores one day's devices (the devices_by_day query, inlined below) in day_devices.
-- Parameters, in order: site, time zone, version, then those of devices_by_day.
INSERT INTO day_devices (site, tz, version, day, browser, os, device, views, visitors)
SELECT ?, ?, ?, day, browser, os, device, views, visitors
FROM ({by_day})
