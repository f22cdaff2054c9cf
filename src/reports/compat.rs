//! Test: the schema with its rollups, and every statement the reports and the summarizer
//! send, also run on current ClickHouse, through `scripts/chdb-check` and the `chdb-core`
//! Python package. (The integration tests run them all on the 18.16 server.)
//!
//! The statements are built by the same binding functions the reports use, with sample
//! values that include SQL metacharacters, then run against a database holding a few
//! events, so the queries also process rows.
//!
//! Also compares, on current ClickHouse, every fetching statement's `DESCRIBE` with its
//! row type, as `tests/api/describe.rs` does on 18.16: the same registry
//! ([`super::describe::every_fetching`]) and the same comparison
//! (`store::describe::Fetching::mismatch`).

use chrono::NaiveDate;
use clickhouse::query::Query;

use super::exec::{plan_query, summary_query, Scope};
use super::filters::{Filter, Filters};
use super::sql::{self, DATASETS};
use super::time::Range;
use super::{busiest, discovery, not_stored, realtime, small_counts, summarize};
use crate::store::compat::{check_on_chdb, schema};
use crate::store::describe::described;
use crate::store::EventRow;

const DATABASE: &str = "footfall";
const SITE: &str = "example.com";

fn query(sql: &str) -> Query {
    clickhouse::Client::default().query(sql)
}

fn text(query: Query) -> String {
    query.sql_display().to_string()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn events() -> String {
    let base = EventRow {
        site: SITE.into(),
        ts: 1_774_740_000, // 2026-03-28 23:20:00 UTC
        name: "pageview".into(),
        hostname: SITE.into(),
        path: "/blog/a".into(),
        source_class: "search".into(),
        referrer_host: "www.google.com".into(),
        visitor: 7,
        session: 70,
        pageview: 700,
        entry: 1,
        returning: 1,
        published: Some(1_774_700_000),
        browser: "Firefox".into(),
        os: "Linux".into(),
        device: "desktop".into(),
        country: "GB".into(),
        ..EventRow::default()
    };
    let rows = [
        base.clone(),
        EventRow { ts: base.ts + 3600, entry: 0, source_class: "internal".into(), ..base.clone() },
        EventRow { name: "engagement".into(), engaged_ms: 12_000, scroll: 80, ts: base.ts + 60, ..base.clone() },
        EventRow { path: "/b".into(), published: None, visitor: 8, ts: base.ts + 90_000, ..base.clone() },
        EventRow {
            name: "signup".into(),
            prop_keys: vec!["plan".into()],
            prop_values: vec!["pro".into()],
            ts: base.ts + 120,
            ..base.clone()
        },
    ];
    let lines: Vec<String> = rows.iter().map(|row| serde_json::to_string(row).unwrap()).collect();
    format!("INSERT INTO events FORMAT JSONEachRow {}", lines.join(" "))
}

fn every_statement() -> Vec<String> {
    let mut all = schema(DATABASE);
    all.push(format!("USE {DATABASE}"));
    all.push(events());

    let tz = chrono_tz::Europe::London;
    let (first, last) = (date("2026-03-28"), date("2026-03-30"));
    for day in [first, date("2026-03-29")] {
        for dataset in DATASETS {
            all.push(text(summarize::summarize_query(query(&dataset.summarize_sql()), dataset, SITE, tz, day, 5)));
        }
        all.push(text(summarize::summary_day_query(query(sql::SUMMARY_DAY), SITE, tz, day, 5, 3)));
    }

    let range = Range::new(first, last, tz);
    let every = super::describe::sample_filters();
    let page_views: Vec<Filter> =
        every.iter().filter(|filter| sql::PAGE_VIEWS_FILTERS.contains(&filter.dimension)).cloned().collect();
    for filters in [Filters::NONE, Filters(&every), Filters(&page_views)] {
        let scope = Scope { site: SITE, range, filters, site_time_zone: true };
        all.push(text(plan_query(query(sql::PLAN), SITE, tz.name(), (range.start, range.end), (first, last))));
        for dataset in DATASETS {
            all.push(text(summary_query(query(&dataset.summary_sql(filters)), dataset, &scope, date("2026-03-30"))));
            all.push(text(
                dataset.bind_events(query(&dataset.events_sql(filters)), &scope.events(range.start, range.end)),
            ));
        }
        let (windows, bind) = busiest::windows_query(&scope);
        all.push(text(bind(query(&windows))));
        all.push(text(discovery::pages_query(query(&sql::discovery_pages(filters)), &scope, 100)));
        let paths = ["/blog/a".to_string(), "/b'\\".to_string()];
        let starts = [1_774_700_000, 7];
        for other in [false, true] {
            let windows = query(&sql::discovery_windows(filters, other));
            all.push(text(discovery::windows_query(windows, &scope, &paths, &starts)));
        }
        let reading = query(&sql::discovery_reading(filters));
        all.push(text(discovery::reading_query(reading, &scope, &paths, &starts)));
        let referrers = query(&sql::discovery_referrers(filters));
        all.push(text(discovery::referrers_query(referrers, &scope, &paths, &starts, 5)));
        all.push(text(discovery::reach_query(query(&sql::discovery_reach(filters)), &scope, &paths, &starts)));
        all.push(text(realtime::query(query(&sql::realtime(filters)), SITE, 1_774_750_000, filters)));
        all.push(text(not_stored::query(query(sql::NOT_STORED), SITE, (range.start, range.end))));
        all.extend(super::describe::conversions(DATABASE, &scope).into_iter().map(|fetching| fetching.sql));
        let bounds = (range.start, range.end);
        all.push(text(small_counts::filter_visitors_query(
            query(&sql::filter_visitors(filters)),
            SITE,
            bounds,
            filters,
        )));
    }
    all
}

#[test]
fn every_report_statement_runs_on_current_clickhouse() {
    check_on_chdb(&every_statement(), None);
}

#[test]
fn every_query_returns_its_row_types_fields_in_order_on_current_clickhouse() {
    // Arrange: the schema, then each entry's `DESCRIBE` in its database.
    let registry = super::describe::every_fetching(DATABASE);
    let mut all = schema(DATABASE);
    let mut describes = Vec::new();
    for entry in &registry {
        all.extend(entry.database.as_ref().map(|database| format!("USE {database}")));
        describes.push(all.len());
        all.push(entry.describe_sql());
    }

    // Act
    let Some(results) = check_on_chdb(&all, None) else { return };

    // Assert
    let problems: Vec<String> =
        registry.iter().zip(describes).filter_map(|(entry, at)| entry.mismatch(&described(&results[at]))).collect();
    assert!(problems.is_empty(), "queries whose columns disagree with their row types:\n{}", problems.join("\n"));
}
