-- Devices over a range computed from events: devices_by_day (inlined below) summed
-- over its days, so visitors count visitor-days, as the summaries do.
-- Parameters: those of devices_by_day.
SELECT
    browser,
    os,
    device,
    sum(views) AS views,
    sum(visitors) AS visitors
FROM ({by_day})
GROUP BY browser, os, device
