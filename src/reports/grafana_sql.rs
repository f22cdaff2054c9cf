//! The reports as SQL for Grafana's ClickHouse data source (`footfall dashboards
//! export-grafana`, laid out by `dashboard::grafana`): over the public `events` table
//! (goal and funnel panels also read the site's `goals` and `funnels` definitions),
//! following the report definitions of docs/reports.md (pageviews only, visitors counted
//! per local day), with the plugin's `$__timeFilter(ts)` macro and the dashboard variables
//! `${site}` and `${tz}` left for Grafana. Every count a query returns comes from at least
//! `min_visitors` visitors (`HAVING visitors >= min_visitors`; 0 or 1: off).

use super::ReportName;

/// `rows` summed into one `value` (a number panel).
pub fn sum(rows: &str, value: &str) -> String {
    format!("SELECT sum({value}) AS {value} FROM ({rows})")
}

/// `rows`' `value` averaged with `weight` as weights (a number panel).
pub fn weighted_mean(rows: &str, value: &str, weight: &str) -> String {
    format!("SELECT sum({value} * {weight}) / greatest(sum({weight}), 1) AS {value} FROM ({rows})")
}

/// A `HAVING` condition on a `visitors` column that keeps rows with at least
/// `min_visitors` visitors, after `prefix`; empty when the threshold is off.
fn at_least(prefix: &str, min_visitors: u64) -> String {
    if min_visitors > 1 {
        format!("{prefix}visitors >= {min_visitors}")
    } else {
        String::new()
    }
}

/// The rows of `report` over `db`'s events for a Grafana panel: `limit` rows at most,
/// hourly buckets when `hourly` (timeseries), the steps of funnel `funnel_name` (funnel),
/// rows with fewer than `min_visitors` visitors left out (funnel: their numbers).
pub fn report(report: ReportName, db: &str, limit: &str, hourly: bool, funnel_name: &str, min_visitors: u64) -> String {
    let views = format!("FROM {db}.events WHERE site = '${{site}}' AND name = 'pageview' AND $__timeFilter(ts)");
    let visitor_days = "uniqExact(toDate(toTimeZone(ts, '${tz}')), visitor)";
    let having = at_least(" HAVING ", min_visitors);
    match report {
        ReportName::Timeseries => {
            let bucket = if hourly { "toStartOfHour" } else { "toStartOfDay" };
            format!(
                "SELECT {bucket}(toTimeZone(ts, '${{tz}}')) AS time, count() AS views, {visitor_days} AS visitors \
                 {views} GROUP BY time{having} ORDER BY time"
            )
        }
        ReportName::TopContent => format!(
            "SELECT path, countIf(name = 'pageview') AS views, \
             uniqExactIf(toDate(toTimeZone(ts, '${{tz}}')), visitor, name = 'pageview') AS visitors, \
             countIf(name = 'pageview' AND entry = 1) AS entries, \
             round(sumIf(engaged_ms, name = 'engagement') / 1000 / greatest(countIf(name = 'pageview'), 1), 1) AS avg_engaged_seconds \
             FROM {db}.events WHERE site = '${{site}}' AND name IN ('pageview', 'engagement') AND $__timeFilter(ts) \
             GROUP BY path HAVING views > 0{} ORDER BY views DESC, path LIMIT {limit}",
            at_least(" AND ", min_visitors)
        ),
        ReportName::BusiestTimes => {
            let hours: Vec<String> = (0..24).map(|h| format!("sumIf(views, hour = {h}) AS h{h:02}")).collect();
            format!(
                "SELECT weekday, arrayElement(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], weekday) AS day, {} \
                 FROM (SELECT toDayOfWeek(toTimeZone(ts, '${{tz}}')) AS weekday, toHour(toTimeZone(ts, '${{tz}}')) AS hour, \
                 count() AS views, {visitor_days} AS visitors {views} GROUP BY weekday, hour{having}) \
                 GROUP BY weekday ORDER BY weekday",
                hours.join(", ")
            )
        }
        ReportName::ContentDiscovery => format!(
            "SELECT path, published_at, first_view_at, \
             round((toInt64(toUInt32(first_view_at)) - toInt64(toUInt32(published_at))) / 3600, 2) AS hours_to_first_view, views \
             FROM (SELECT path, min(published) AS published_at, min(ts) AS first_view_at, count() AS views, \
             {visitor_days} AS visitors FROM {db}.events WHERE site = '${{site}}' AND name = 'pageview' GROUP BY path{having}) \
             WHERE $__timeFilter(first_view_at) ORDER BY first_view_at DESC, path LIMIT {limit}"
        ),
        // Pages per weekday and hour of their start (their earliest publish time, else
        // their first view) and their viewers, a cell shown from min_visitors of them; the
        // content registry and the 24-hour medians are footfall's own.
        ReportName::PublishTiming => format!(
            "SELECT toDayOfWeek(toTimeZone(start, '${{tz}}')) AS weekday, toHour(toTimeZone(start, '${{tz}}')) AS hour, \
             count() AS pages, sum(page_visitors) AS visitors FROM (SELECT path, ifNull(min(published), min(ts)) AS start, \
             {visitor_days} AS page_visitors FROM {db}.events WHERE site = '${{site}}' AND name = 'pageview' GROUP BY path) \
             WHERE $__timeFilter(start) GROUP BY weekday, hour{having} ORDER BY weekday, hour"
        ),
        ReportName::Sources => format!(
            "SELECT referrer_host, source_class, count() AS sessions, {visitor_days} AS visitors \
             {views} AND entry = 1 GROUP BY referrer_host, source_class{having} \
             ORDER BY sessions DESC, visitors DESC, referrer_host, source_class LIMIT {limit}"
        ),
        ReportName::Devices => format!(
            "SELECT browser, os, device, count() AS views, {visitor_days} AS visitors {views} \
             GROUP BY browser, os, device{having} ORDER BY views DESC, visitors DESC, browser, os, device LIMIT {limit}"
        ),
        ReportName::Countries => format!(
            "SELECT country, count() AS views, {visitor_days} AS visitors {views} \
             GROUP BY country{having} ORDER BY views DESC, visitors DESC, country LIMIT {limit}"
        ),
        ReportName::NotStored => format!(
            "SELECT reason, toUInt64(sum(events)) AS events FROM {db}.not_stored \
             WHERE site = '${{site}}' AND $__timeFilter(hour) GROUP BY reason ORDER BY events DESC, reason"
        ),
        ReportName::Events => format!(
            "SELECT name, count() AS events, {visitor_days} AS visitors FROM {db}.events \
             WHERE site = '${{site}}' AND name NOT IN ('pageview', 'engagement') AND $__timeFilter(ts) \
             GROUP BY name{having} ORDER BY events DESC, visitors DESC, name LIMIT {limit}"
        ),
        ReportName::Goals => goals(db, min_visitors),
        ReportName::Funnel => funnel(db, funnel_name, min_visitors),
        ReportName::Realtime => format!(
            "SELECT count() AS views, uniqExact(visitor) AS visitors FROM {db}.events \
             WHERE site = '${{site}}' AND name = 'pageview' AND ts >= now() - 300{having}"
        ),
    }
}

/// Goals a Grafana goals panel covers: the site's first this many goals by name.
/// ClickHouse 18.16 matches a path only against a constant pattern, so the panel's SQL
/// names each goal in turn, as a constant element of the site's goal definitions.
pub const GRAFANA_GOALS: usize = 32;

/// A scalar subquery: the site's goals as `(name, event, path expression)` tuples by
/// name, as `crate::goals::Matcher` has them: the event name (pageview for a page goal) and
/// the page pattern as an anchored RE2 expression (`*`: `.*`; empty for an event goal).
fn goal_definitions(db: &str) -> String {
    format!(
        "(SELECT arraySort(groupArray((name, goal_event, goal_regex))) FROM (SELECT name, \
         if(latest_kind = 'event', latest_target, 'pageview') AS goal_event, \
         if(latest_kind = 'event', '', concat('^', replaceAll(replaceRegexpAll(latest_target, \
         '[.+?()|\\\\[\\\\]{{}}^$\\\\\\\\]', '\\\\\\\\\\\\0'), '*', '.*'), '$')) AS goal_regex \
         FROM (SELECT name, argMax(kind, changed) AS latest_kind, argMax(target, changed) AS latest_target, \
         argMax(removed, changed) AS latest_removed FROM {db}.goals WHERE site = '${{site}}' GROUP BY name) \
         WHERE latest_removed = 0))"
    )
}

/// Whether an event row (`event_name`, `path`) reaches the goal `definition` (a
/// `(_, event, path expression)` tuple, constant in the query).
fn reaches(definition: &str) -> String {
    format!("(event_name = tupleElement({definition}, 2) AND match(path, tupleElement({definition}, 3)))")
}

/// The goals panel: per goal (the first [`GRAFANA_GOALS`] by name) its conversions and
/// visitors (visitor-days) in the range, goals with fewer than `min_visitors` visitors
/// left out. Events are first grouped by name, path, day and visitor, so each goal's
/// pattern runs once per group rather than per event.
fn goals(db: &str, min_visitors: u64) -> String {
    let each = |what: &dyn Fn(String) -> String| {
        (1..=GRAFANA_GOALS).map(|i| what(reaches(&format!("goals[{i}]")))).collect::<Vec<_>>().join(", ")
    };
    let conversions = each(&|reached| format!("sumIf(events, {reached})"));
    let visitors = each(&|reached| format!("uniqExactIf(day, visitor, {reached})"));
    format!(
        "SELECT tupleElement(definitions[goal], 1) AS name, conversions, visitors \
         FROM (WITH {definitions} AS goals SELECT goals AS definitions, [{conversions}] AS conversions_each, \
         [{visitors}] AS visitors_each FROM (SELECT name AS event_name, path, toDate(toTimeZone(ts, '${{tz}}')) AS day, \
         visitor, count() AS events FROM {db}.events WHERE site = '${{site}}' AND name != 'engagement' \
         AND $__timeFilter(ts) GROUP BY event_name, path, day, visitor)) \
         ARRAY JOIN conversions_each AS conversions, visitors_each AS visitors, arrayEnumerate(conversions_each) AS goal \
         WHERE goal <= length(definitions){} ORDER BY name",
        at_least(" AND ", min_visitors),
        definitions = goal_definitions(db),
    )
}

/// The funnel panel: per step of the site's funnel `name` (at most
/// `crate::goals::FUNNEL_STEPS` steps), the visitor-days that reached it after every
/// earlier step on the same day, as the funnel report counts them (`windowFunnel` over
/// a day), the drop-off from the step before, and its rate. A step with fewer than
/// `min_visitors` visitors shows no numbers, nor does a drop-off next to it. A step whose
/// goal was removed is reached by nobody.
fn funnel(db: &str, name: &str, min_visitors: u64) -> String {
    let most = *crate::goals::FUNNEL_STEPS.end();
    let name = name.replace('\\', "\\\\").replace('\'', "\\'");
    let steps = format!(
        "(SELECT arraySort(groupArray((step_index, step, goal_event, goal_regex))) FROM (SELECT step_index, step \
         FROM (SELECT argMax(steps, changed) AS latest_steps, argMax(removed, changed) AS latest_removed \
         FROM {db}.funnels WHERE site = '${{site}}' AND name = '{name}') \
         ARRAY JOIN latest_steps AS step, arrayEnumerate(latest_steps) AS step_index WHERE latest_removed = 0) AS f \
         ANY LEFT JOIN (SELECT definition.1 AS step, definition.2 AS goal_event, definition.3 AS goal_regex \
         FROM (SELECT arrayJoin({goals}) AS definition)) AS g USING step)",
        goals = goal_definitions(db),
    );
    let conditions: Vec<String> = (1..=most)
        .map(|k| {
            let step = format!("steps[{k}]");
            format!("(event_name = tupleElement({step}, 3) AND match(path, tupleElement({step}, 4)))")
        })
        .collect();
    let reached: Vec<String> = (1..=most).map(|k| format!("countIf(level >= {k})")).collect();
    let shown = |count: &str| {
        if min_visitors > 1 {
            format!("if({count} >= {min_visitors}, {count}, NULL)")
        } else {
            format!("toNullable({count})")
        }
    };
    format!(
        "SELECT step, name, visitors, if(step = 1, NULL, previous - visitors) AS dropped_off, \
         if(previous > 0, round(dropped_off / previous, 4), NULL) AS drop_off_rate, \
         if(first_step > 0, round(visitors / first_step, 4), NULL) AS conversion_rate \
         FROM (WITH {steps} AS steps SELECT step, tupleElement(steps[step], 2) AS name, {visitors} AS visitors, \
         {previous} AS previous, {first} AS first_step, length(steps) AS defined \
         FROM (SELECT [{reached}] AS reached FROM (WITH {steps} AS steps \
         SELECT toDate(toTimeZone(ts, '${{tz}}')) AS day, visitor, windowFunnel(86400)(ts, {conditions}) AS level \
         FROM (SELECT ts, visitor, name AS event_name, path FROM {db}.events \
         WHERE site = '${{site}}' AND name != 'engagement' AND $__timeFilter(ts)) GROUP BY day, visitor)) \
         ARRAY JOIN arrayEnumerate(reached) AS step) WHERE step <= defined ORDER BY step",
        visitors = shown("reached[step]"),
        previous = shown("reached[step - 1]"),
        first = shown("reached[1]"),
        reached = reached.join(", "),
        conditions = conditions.join(", "),
    )
}

/// `sql` with Grafana's macros and variables replaced, as Grafana would send it for the
/// UTC range `from..=to` (seconds since the epoch): what the tests run.
pub fn expand(sql: &str, site: &str, tz: &str, from: u32, to: u32) -> String {
    let quote = |text: &str| text.replace('\\', "\\\\").replace('\'', "\\'");
    let mut out = sql.replace("${site}", &quote(site)).replace("${tz}", &quote(tz));
    while let Some(start) = out.find("$__timeFilter(") {
        let rest = &out[start + "$__timeFilter(".len()..];
        let end = rest.find(')').expect("the macro is closed");
        let column = &rest[..end];
        let filter = format!("{column} >= toDateTime({from}) AND {column} <= toDateTime({to})");
        out = format!("{}{filter}{}", &out[..start], &rest[end + 1..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_replaces_macros_and_quotes_variables() {
        assert_eq!(
            expand("site = '${site}' AND $__timeFilter(ts) AND tz = '${tz}'", "a'b", "UTC", 10, 20),
            "site = 'a\\'b' AND ts >= toDateTime(10) AND ts <= toDateTime(20) AND tz = 'UTC'"
        );
    }
}
