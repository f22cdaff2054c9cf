-- The rows of a summary table that belong to a day's newest summary, inlined where a
-- query says {current_summary} (after WHERE). Parameters, in order: site, time zone,
-- first day, end day (YYYY-MM-DD, end exclusive), the same four again for summary_days,
-- then the summary format. Bound by sql::bind_summary.
site = ? AND tz = ? AND day >= toDate(?) AND day < toDate(?)
    AND (day, version) IN (
        SELECT day, max(version) FROM summary_days
        WHERE site = ? AND tz = ? AND day >= toDate(?) AND day < toDate(?) AND format = ?
        GROUP BY day
    )
