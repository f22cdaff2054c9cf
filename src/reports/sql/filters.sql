-- The condition of each report filter, one line per filter as `name: condition`, added
-- to the shared event_scope.sql (after its site and range, as `AND condition`, or
-- `AND NOT (condition)` for a negated filter) for the filters a request gives, in this
-- order. The lines of path, page, source, source_class, utm_source, utm_medium,
-- utm_campaign, browser, os, device and country also filter the day summaries that have
-- those columns (`Dataset::summary_dims`). docs/reports.md#filters says what each keeps.
-- Parameters of each line, in order (bound by filters::Filters::bind): the value; source
-- twice; entry, event, prop.KEY and goal first the UTC seconds their subquery starts and
-- ends at and the site, then the value (prop.KEY: the key, then the value; goal: the
-- goal's event name and path expression, goals::Matcher, from its definition). entry's
-- subquery starts at the UTC midnight before the range (sessions end at midnight UTC),
-- event's, prop's and goal's at the range's start. goal's condition is goal.sql's.
path: startsWith(path, ?)
page: path = ?
entry: session IN (WITH toDateTime(?, 'UTC') AS entry_start, toDateTime(?, 'UTC') AS entry_end SELECT session FROM events WHERE site = ? AND toDate(ts) >= toDate(entry_start) AND toDate(ts) <= toDate(entry_end - 1) AND ts >= entry_start AND ts < entry_end AND name = 'pageview' AND entry = 1 AND path = ?)
hostname: hostname = ?
source: (source_class = ? OR referrer_host = ?)
source_class: source_class = ?
utm_source: utm_source = ?
utm_medium: utm_medium = ?
utm_campaign: utm_campaign = ?
utm_content: utm_content = ?
utm_term: utm_term = ?
country: country = ?
browser: browser = ?
os: os = ?
device: device = ?
screen: screen = ?
event: visitor IN (WITH toDateTime(?, 'UTC') AS event_start, toDateTime(?, 'UTC') AS event_end SELECT visitor FROM events WHERE site = ? AND toDate(ts) >= toDate(event_start) AND toDate(ts) <= toDate(event_end - 1) AND ts >= event_start AND ts < event_end AND name = ?)
prop: visitor IN (WITH toDateTime(?, 'UTC') AS prop_start, toDateTime(?, 'UTC') AS prop_end SELECT visitor FROM events WHERE site = ? AND toDate(ts) >= toDate(prop_start) AND toDate(ts) <= toDate(prop_end - 1) AND ts >= prop_start AND ts < prop_end AND arrayExists((prop_key, prop_value) -> prop_key = ? AND prop_value = ?, prop_keys, prop_values))
goal: visitor IN (WITH toDateTime(?, 'UTC') AS goal_start, toDateTime(?, 'UTC') AS goal_end SELECT visitor FROM events WHERE site = ? AND toDate(ts) >= toDate(goal_start) AND toDate(ts) <= toDate(goal_end - 1) AND ts >= goal_start AND ts < goal_end AND {goal})
