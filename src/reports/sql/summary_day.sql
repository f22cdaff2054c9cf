-- Records that a day's summaries were written (the planner's ledger).
-- Parameters, in order: site, time zone, day (YYYY-MM-DD), version, event count, format.
INSERT INTO summary_days (site, tz, day, version, events, format)
SELECT ?, ?, toDate(?), ?, ?, ?
