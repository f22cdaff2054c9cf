//! The report statements that fetch rows, each with the row type the reports decode it
//! into and sample values bound by the reports' own binding functions: the reports' half
//! of the registry ([`every_fetching`]) whose `DESCRIBE`s `tests/api/describe.rs` checks
//! on ClickHouse 18.16 and `reports::compat` on current ClickHouse (store's half and the
//! checking types are in [`crate::store::describe`]).
//!
//! Add a query here when you add one; the test fails for a `.sql` file that fetches rows
//! and is named by no entry.

use chrono::NaiveDate;
use clickhouse::query::Query;

use super::events::PropBreakdown;
use super::exec::{plan_query, summary_query, PlanRow, Scope};
use super::filters::{Dimension, Filter, Filters};
use super::sql::{self, Dataset};
use super::time::Range;
use super::{
    breakdowns, busiest, discovery, events, funnel, goals, not_stored, realtime, small_counts, timeseries, top_content,
};
use crate::goals::Matcher;
pub use crate::store::describe::Fetching;

/// Every statement that fetches rows, on footfall database `database`: store's, and the
/// reports' without filters, with every filter, and with the filters `page_views` can
/// apply (content-discovery then reads its windows there, not in `events`). The list
/// both `DESCRIBE` checks run.
pub fn every_fetching(database: &str) -> Vec<Fetching> {
    let mut all = crate::store::describe::fetching(database);
    let every = sample_filters();
    let page_views: Vec<Filter> =
        every.iter().filter(|filter| sql::PAGE_VIEWS_FILTERS.contains(&filter.dimension)).cloned().collect();
    for filters in [Filters::NONE, Filters(&every), Filters(&page_views)] {
        all.extend(fetching(database, filters));
    }
    all
}

/// One filter of each kind, half of them negated, with values that hold SQL
/// metacharacters (the statements bind them as any value).
pub(crate) fn sample_filters() -> Vec<Filter> {
    Dimension::ALL
        .into_iter()
        .enumerate()
        .map(|(i, dimension)| Filter {
            dimension,
            key: if dimension == Dimension::Prop { "pl'an\\".into() } else { String::new() },
            value: format!("/v{i}'); DROP TABLE events; --\\"),
            negated: i % 2 == 1,
            goal: (dimension == Dimension::Goal)
                .then(|| Matcher { event: format!("e{i}'\\"), path_regex: format!("^/g{i}'\\\\.html$") }),
        })
        .collect()
}

/// The row type of each dataset's summary and events queries, as its readers fetch it.
fn dataset_rows(dataset: &Dataset, database: &str, summary: Query, events: Query) -> [Fetching; 2] {
    let db = || Some(database.to_string());
    let name = dataset.name;
    let events_name = match dataset.from_events {
        Some(_) => format!("{name}_from_events.sql + {name}_by_day.sql"),
        None => format!("{name}_by_day.sql"),
    };
    let summary_name = format!("{name}_summary.sql");
    macro_rules! pair {
        ($row:ty) => {
            [Fetching::of::<$row>(summary_name, db(), summary), Fetching::of::<$row>(events_name, db(), events)]
        };
    }
    match name {
        "pages" => pair!(top_content::PageRow),
        "engagement" => pair!(top_content::EngagementRow),
        "sources" => pair!(breakdowns::SourceRow),
        "devices" => pair!(breakdowns::DeviceRow),
        "countries" => pair!(breakdowns::CountryRow),
        "days" => pair!(timeseries::DayRow),
        "hours" => pair!(busiest::HourRow),
        other => panic!("dataset `{other}` has no row type in reports::describe"),
    }
}

/// Every report statement that fetches rows, on footfall database `database`, with
/// `filters`.
fn fetching(database: &str, filters: Filters<'_>) -> Vec<Fetching> {
    let query = |sql: &str| clickhouse::Client::default().query(sql);
    let db = || Some(database.to_string());
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date");
    let site = "example.com";
    let tz = chrono_tz::Europe::London;
    let (first, last) = (date("2026-03-28"), date("2026-03-30"));
    let range = Range::new(first, last, tz);
    let scope = Scope { site, range, filters, site_time_zone: true };

    let plan = plan_query(query(sql::PLAN), site, tz.name(), (range.start, range.end), (first, last));
    let mut all = vec![Fetching::of::<PlanRow>("plan.sql", db(), plan)];
    for dataset in sql::DATASETS {
        let summary = summary_query(query(&dataset.summary_sql(filters)), dataset, &scope, date("2026-03-30"));
        let events = dataset.bind_events(query(&dataset.events_sql(filters)), &scope.events(range.start, range.end));
        all.extend(dataset_rows(dataset, database, summary, events));
    }
    let (windows, bind) = busiest::windows_query(&scope);
    let windows_name = if filters.is_empty() { "quarters.sql" } else { "quarters_from_events.sql" };
    all.push(Fetching::of::<busiest::WindowRow>(windows_name, db(), bind(query(&windows))));
    let pages = discovery::pages_query(query(&sql::discovery_pages(filters)), &scope, 100);
    all.push(Fetching::of::<discovery::PageRow>("discovery_pages.sql", db(), pages));
    let paths = ["/blog/a".to_string(), "/b'\\".to_string()];
    let starts = [1_774_700_000, 7];
    for other in [false, true] {
        let windows = query(&sql::discovery_windows(filters, other));
        let windows = discovery::windows_query(windows, &scope, &paths, &starts);
        all.push(Fetching::of::<discovery::WindowRow>("discovery_windows.sql", db(), windows));
    }
    let reading = discovery::reading_query(query(&sql::discovery_reading(filters)), &scope, &paths, &starts);
    all.push(Fetching::of::<discovery::ReadingRow>("discovery_reading.sql", db(), reading));
    let referrers = query(&sql::discovery_referrers(filters));
    let referrers = discovery::referrers_query(referrers, &scope, &paths, &starts, 5);
    all.push(Fetching::of::<discovery::ReferrerRow>("discovery_referrers.sql", db(), referrers));
    let reach = discovery::reach_query(query(&sql::discovery_reach(filters)), &scope, &paths, &starts);
    all.push(Fetching::of::<discovery::ReachRow>("discovery_reach.sql", db(), reach));
    for breakdown in sql::BREAKDOWNS {
        for kept in [false, true] {
            let sql = breakdown.other_visitors_sql(kept, filters);
            let name = format!("other_visitors.sql + {}_by_day.sql", breakdown.dataset.name);
            let other = other_visitors_sample(query(&sql), &scope, breakdown);
            all.push(Fetching::of::<small_counts::OtherDay>(name, db(), other));
        }
    }
    let now = realtime::query(query(&sql::realtime(filters)), site, 1_774_750_000, filters);
    all.push(Fetching::of::<realtime::Now>("realtime.sql", db(), now));
    let not_stored = not_stored::query(query(sql::NOT_STORED), site, (range.start, range.end));
    all.push(Fetching::of::<not_stored::ReasonCount>("not_stored.sql", db(), not_stored));
    let visitors = small_counts::filter_visitors_query(
        query(&sql::filter_visitors(filters)),
        site,
        (range.start, range.end),
        filters,
    );
    all.push(Fetching::of::<u64>("filter_visitors.sql", db(), visitors));
    all.extend(conversions(database, &scope));
    all
}

/// The statements of the events and goals reports with `scope`: the events and their
/// property breakdown, each `(other)` count, the range's visitors, one goal's and
/// several goals' conversions.
pub(crate) fn conversions(database: &str, scope: &Scope<'_>) -> Vec<Fetching> {
    let query = |sql: &str| clickhouse::Client::default().query(sql);
    let db = || Some(database.to_string());
    let filters = scope.filters;
    let by = PropBreakdown { event: "sign'up\\", key: "pl'an\\" };
    let keys = ["a'\\".to_string(), "b".to_string()];
    let goals = [
        Matcher { event: "sign'up".into(), path_regex: String::new() },
        Matcher { event: "pageview".into(), path_regex: "^/blog/.*\\.html$".into() },
    ];
    vec![
        Fetching::of::<events::NameCount>("events.sql", db(), events::query(query(&sql::events(filters)), scope, None)),
        Fetching::of::<u64>(
            "events_other.sql",
            db(),
            events::other_query(query(&sql::events_other(filters)), scope, None, &keys),
        ),
        Fetching::of::<events::ValueCount>(
            "event_props.sql",
            db(),
            events::query(query(&sql::event_props(filters)), scope, Some(by)),
        ),
        Fetching::of::<u64>(
            "event_props_other.sql",
            db(),
            events::other_query(query(&sql::event_props_other(filters)), scope, Some(by), &keys),
        ),
        Fetching::of::<u64>(
            "range_visitors.sql",
            db(),
            events::query(query(&sql::range_visitors(filters)), scope, None),
        ),
        Fetching::of::<goals::Conversions>(
            "goal_conversions.sql",
            db(),
            goals::query(query(&sql::goal_conversions(filters, 1)), scope, &[&goals[0]]),
        ),
        Fetching::of::<goals::Conversions>(
            "goal_conversions.sql",
            db(),
            goals::query(query(&sql::goal_conversions(filters, 2)), scope, &[&goals[0], &goals[1]]),
        ),
        Fetching::of::<funnel::Level>(
            "funnel.sql",
            db(),
            funnel::query(query(&sql::funnel(filters, 2)), scope, &[&goals[0], &goals[1]]),
        ),
    ]
}

/// [`small_counts::other_visitors_query`] with two keys of `breakdown`'s arity.
fn other_visitors_sample(query: Query, scope: &Scope<'_>, breakdown: &sql::Breakdown) -> Query {
    let scope = &scope.events(scope.range.start, scope.range.end);
    let key = |n: usize| format!("/k{n}'\\");
    match breakdown.key.split(", ").count() {
        1 => small_counts::other_visitors_query(query, scope, &[key(1), key(2)]),
        3 => small_counts::other_visitors_query(query, scope, &[[key(1), key(2), key(3)], [key(4), key(5), key(6)]]),
        5 => {
            let keys = [[key(1), key(2), key(3), key(4), key(5)], [key(6), key(7), key(8), key(9), key(10)]];
            small_counts::other_visitors_query(query, scope, &keys)
        }
        n => panic!("no sample keys of {n} columns for {}", breakdown.dataset.name),
    }
}
