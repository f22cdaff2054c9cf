-- Devices over the days [first, end) that have a current summary, from day_devices.
-- Parameters, in order: site, time zone, first day, end day (YYYY-MM-DD, end exclusive),
-- the same four again for summary_days and the summary format, each given browser, os or device filter's (filters.sql).
SELECT
    browser,
    os,
    device,
    sum(views) AS views,
    sum(visitors) AS visitors
FROM day_devices
WHERE {current_summary}
    {filters}
GROUP BY browser, os, device
