//! Small-count protection, so no report singles one person out. Two rules, both with the
//! threshold `reports.min_visitors` (0 or 1: off):
//!
//! - **Folding** ([`fold`]): rows of a breakdown (a path, a source, a device, a country, a
//!   new page) that fewer than `min_visitors` visitors account for are folded into one
//!   row labelled [`OTHER`], so no report names a page, referrer or device that one
//!   person accounts for. Folding happens after the rows are merged across days and
//!   before `limit`: the other row holds every small row of the range, and comes last.
//! - **Filters** ([`check_filters`]): a request with filters (`path`, `country`,
//!   `event`, ...: whatever [`Filters::given`] lists) whose filters match fewer than `min_visitors` visitors in
//!   its range is refused, 403 [`ReportError::TooFewVisitors`], before any report query
//!   runs, in every report and form (JSON, CSV, the dashboard). Without this a filter
//!   would narrow a report that is never folded (timeseries, busiest-times, realtime) to
//!   one person, and probing `path=` one character at a time would spell out a path one
//!   visitor saw. The answer is the same for 0 matching visitors as for `min_visitors - 1`.
//!   The count is one `uniqExact(visitor)` over `events` with the shared
//!   `{event_scope}` condition bound by `sql::bind_events` (the condition and binding of
//!   every report's events side), so a filter added there is counted too. It reads
//!   events even where a report reads day summaries, which cannot count distinct visitors
//!   across paths; days whose events retention deleted count no one. The admin token is
//!   exempt (the caller decides).
//!
//! Visitors in reports are visitor-days (one person is one visitor per day; days cannot
//! be linked), so a row reaches `k` with `k` people, or with one person on `k` different
//! days; the filter check counts distinct visitor hashes of the range, which are
//! visitor-days too (a hash lives one UTC day).

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use clickhouse::query::Query;
use clickhouse::{Row, RowOwned, RowRead};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ReportError;
use super::exec::{self, Ctx, Scope, Split};
use super::filters::Filters;
use super::sql::{self, Breakdown, EventScope};
use super::time::date_from_day_number;
use crate::store::StoreError;

/// The label of the row that holds the folded rows.
pub(crate) const OTHER: &str = "(other)";

/// What folding did to one report's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Folding {
    /// The threshold: rows with fewer visitors were folded.
    pub min_visitors: u64,
    /// How many rows were folded into the other row (0: no other row).
    pub folded_rows: usize,
    /// How the other row's visitors were counted; `None` without an other row.
    pub other_visitors: Option<OtherVisitors>,
}

/// How the `(other)` row's visitors were counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OtherVisitors {
    /// Each visitor-day once, however many folded rows it appears in.
    Exact,
    /// Added up over the folded rows on some days (more than [`EXACT_OTHER_VISITORS_MAX_EVENTS`]
    /// summarized events, or days whose events retention deleted): a visitor in two
    /// folded rows on such a day counts twice.
    Summed,
}

/// Most events of summarized days that `other_visitors` reads again to count the
/// `(other)` row exactly (about 50 ms on the benchmark's machine); beyond, it adds up the
/// folded rows' summaries for those days.
pub const EXACT_OTHER_VISITORS_MAX_EVENTS: u64 = 1_000_000;

/// A breakdown's row as its report reads it (from summaries and events alike).
pub(crate) trait BreakdownRow: RowOwned + RowRead {
    type Key: Serialize + Hash + Eq + Clone;
    /// How the rows are found among events.
    const BREAKDOWN: &'static Breakdown;
    fn key(&self) -> Self::Key;
    fn visitors(&self) -> u64;
    /// Sets the visitors (an `(other)` row's, once counted exactly).
    fn set_visitors(&mut self, visitors: u64);
}

/// What [`fold`] made of a breakdown's rows.
#[derive(Debug)]
pub(crate) struct Folded<R, K> {
    /// The rows with at least `min_visitors` visitors, in their order.
    pub kept: Vec<R>,
    /// The small rows added up and relabelled; its visitors are their sum until
    /// [`other_visitors`] counts them.
    pub other: Option<R>,
    pub folding: Folding,
    /// The keys of the rows kept and of the rows folded.
    pub keys: Keys<K>,
}

/// The keys of a breakdown's rows, as [`fold`] split them.
#[derive(Debug)]
pub(crate) struct Keys<K> {
    pub kept: Vec<K>,
    pub folded: Vec<K>,
    /// The visitors of each folded row, in the order of `folded`.
    pub folded_visitors: Vec<u64>,
}

/// Splits `rows` into the rows with at least `min_visitors` visitors, in their order, and
/// one row that adds up the others (the first small row, the others added to it by `add`,
/// relabelled by `label`), or none when no row is small, keeping each side's `key`s.
/// `min_visitors` of 0 or 1 folds nothing.
pub(crate) fn fold<R, K>(
    rows: Vec<R>,
    min_visitors: u64,
    visitors: impl Fn(&R) -> u64,
    key: impl Fn(&R) -> K,
    add: impl Fn(&mut R, &R),
    label: impl FnOnce(&mut R),
) -> Folded<R, K> {
    let (kept, small): (Vec<R>, Vec<R>) = rows.into_iter().partition(|row| visitors(row) >= min_visitors);
    // One folded row's own count is exact; more are summed until `other_visitors` counts them.
    let other_visitors = match small.len() {
        0 => None,
        1 => Some(OtherVisitors::Exact),
        _ => Some(OtherVisitors::Summed),
    };
    let folding = Folding { min_visitors, folded_rows: small.len(), other_visitors };
    let keys = Keys {
        kept: kept.iter().map(&key).collect(),
        folded: small.iter().map(&key).collect(),
        folded_visitors: small.iter().map(&visitors).collect(),
    };
    let mut small = small.into_iter();
    let other = small.next().map(|first| {
        let mut other = first;
        for row in small {
            add(&mut other, &row);
        }
        label(&mut other);
        other
    });
    Folded { kept, other, folding, keys }
}

/// One site-local day of [`Breakdown::other_visitors_sql`].
#[derive(Debug, Row, Deserialize)]
pub(crate) struct OtherDay {
    pub day_number: u16,
    pub visitors: u64,
}

/// A breakdown's rows for the request, both sides together (callers add up equal keys),
/// and each key's visitors among the rows read from events (what [`other_visitors`] needs
/// to tell the summarized days' part of a folded row from the events' part).
pub(crate) async fn read<R: BreakdownRow>(
    ctx: &Ctx,
    scope: &Scope<'_>,
    split: Option<Split>,
) -> Result<(Vec<R>, EventsSide<R::Key>), StoreError> {
    let (mut rows, from_events) = exec::fetch_sides::<R>(ctx, R::BREAKDOWN.dataset, scope, split).await?;
    let mut events_side = EventsSide::new();
    for row in &from_events {
        *events_side.entry(row.key()).or_insert(0) += row.visitors();
    }
    rows.extend(from_events);
    Ok((rows, events_side))
}

/// Visitors per key among the rows a breakdown read from events.
pub(crate) type EventsSide<K> = HashMap<K, u64>;

/// The visitors of the `(other)` row into which a breakdown's rows `keys.folded` were
/// folded, counted as the site's total counts them: a visitor-day once, however many
/// folded rows it appears in. `summed`, the rows' own visitors added up, is exact when
/// fewer than two rows were folded, and is then the answer without a query.
///
/// Events are read again (one query, listing the folded keys or the kept ones, whichever
/// is shorter) for the whole range, unless the days the report read from summaries hold
/// more than [`EXACT_OTHER_VISITORS_MAX_EVENTS`] events: then only for the days it read
/// from events, and the summarized days add up their folded rows (their part of `summed`,
/// known from `events_side` without another query). Days read from summaries whose
/// events retention deleted add up their summaries too. `split` is the report's, `None`
/// when it read events only.
///
/// # Errors
/// ClickHouse failing.
pub(crate) async fn other_visitors<R: BreakdownRow>(
    ctx: &Ctx,
    scope: &Scope<'_>,
    split: Option<Split>,
    keys: &Keys<R::Key>,
    summed: u64,
    events_side: &EventsSide<R::Key>,
) -> Result<(u64, OtherVisitors), StoreError> {
    if keys.folded.len() < 2 {
        return Ok((summed, OtherVisitors::Exact));
    }
    let dataset = R::BREAKDOWN.dataset;
    let range = scope.range;
    let summaries = split.filter(|_| scope.summaries_serve(dataset));
    let too_many = summaries.filter(|split| split.summarized_events > EXACT_OTHER_VISITORS_MAX_EVENTS);
    let events_from = too_many.map_or(range.start, |split| split.events_from);

    let mut total = 0;
    let mut first_with_events = None;
    if events_from < range.end {
        let list_kept = !keys.kept.is_empty() && keys.kept.len() < keys.folded.len();
        let listed = if list_kept { &keys.kept } else { &keys.folded };
        let sql = R::BREAKDOWN.other_visitors_sql(list_kept, scope.filters);
        let days: Vec<OtherDay> =
            other_visitors_query(ctx.query(&sql), &scope.events(events_from, range.end), listed).fetch_all().await?;
        total += days.iter().map(|day| day.visitors).sum::<u64>();
        first_with_events = days.iter().map(|day| date_from_day_number(day.day_number)).min();
    }

    // The summarized days' visitors of each folded row, where they were not counted above.
    let summarized: Vec<u64> = match (too_many, summaries) {
        (Some(_), _) => keys
            .folded
            .iter()
            .zip(&keys.folded_visitors)
            .map(|(key, visitors)| visitors - events_side.get(key).copied().unwrap_or(0))
            .collect(),
        // Days before the first one with events left: retention emptied them.
        (None, Some(split)) => {
            let until = first_with_events.map_or(split.summarized_until, |day| day.min(split.summarized_until));
            if until <= range.from {
                Vec::new()
            } else {
                let rows: Vec<R> =
                    exec::summary_query(ctx.query(&dataset.summary_sql(scope.filters)), dataset, scope, until)
                        .fetch_all()
                        .await?;
                let folded: HashSet<&R::Key> = keys.folded.iter().collect();
                rows.iter().filter(|row| folded.contains(&row.key())).map(BreakdownRow::visitors).collect()
            }
        }
        (None, None) => Vec::new(),
    };
    total += summarized.iter().sum::<u64>();
    let how = if summarized.iter().filter(|visitors| **visitors > 0).count() > 1 {
        OtherVisitors::Summed
    } else {
        OtherVisitors::Exact
    };
    Ok((total, how))
}

/// Binds [`Breakdown::other_visitors_sql`] for `keys` (not empty) over `scope`, however
/// many keys there are.
pub(crate) fn other_visitors_query<K: Serialize>(query: Query, scope: &EventScope<'_>, keys: &[K]) -> Query {
    sql::allow_length(sql::bind_other_visitors(query, scope, keys))
}

/// Refuses `filters` when they match fewer than `min_visitors` distinct visitors among the
/// pageviews of `site` in `[start, end)` (UTC seconds). No filter, or `min_visitors` of 0
/// or 1: nothing is checked and nothing is sent to ClickHouse.
///
/// # Errors
/// [`ReportError::TooFewVisitors`] naming the given filters; ClickHouse failing.
pub(crate) async fn check_filters(
    ctx: &Ctx,
    site: &str,
    bounds: (u32, u32),
    filters: Filters<'_>,
    min_visitors: u64,
) -> Result<(), ReportError> {
    let given = filters.given();
    if given.is_empty() || min_visitors <= 1 {
        return Ok(());
    }
    let visitors: u64 = filter_visitors_query(ctx.query(&sql::filter_visitors(filters)), site, bounds, filters)
        .fetch_one()
        .await
        .map_err(crate::store::StoreError::from)?;
    if visitors >= min_visitors {
        Ok(())
    } else {
        Err(ReportError::TooFewVisitors { field: given.join(","), min_visitors })
    }
}

/// Binds [`sql::filter_visitors`] the way every events-side report query is bound.
pub(crate) fn filter_visitors_query(query: Query, site: &str, (start, end): (u32, u32), filters: Filters<'_>) -> Query {
    sql::bind_events(query, &EventScope { site, tz: "UTC", start, end, filters })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::filters::{Dimension, Filter};

    #[derive(Debug, Clone, PartialEq)]
    struct Row {
        name: &'static str,
        views: u64,
        visitors: u64,
    }

    fn row(name: &'static str, views: u64, visitors: u64) -> Row {
        Row { name, views, visitors }
    }

    fn fold_rows(rows: Vec<Row>, k: u64) -> (Vec<Row>, Option<Row>, Folding) {
        let folded = fold_keyed(rows, k);
        (folded.kept, folded.other, folded.folding)
    }

    fn fold_keyed(rows: Vec<Row>, k: u64) -> Folded<Row, &'static str> {
        fold(
            rows,
            k,
            |row| row.visitors,
            |row| row.name,
            |total, row| {
                total.views += row.views;
                total.visitors += row.visitors;
            },
            |other| other.name = "(other)",
        )
    }

    #[test]
    fn rows_under_the_threshold_are_added_up_into_one_other_row() {
        let rows = vec![row("/a", 40, 9), row("/b", 7, 2), row("/c", 20, 5), row("/d", 3, 1), row("/e", 4, 4)];
        let (kept, other, folding) = fold_rows(rows, 5);
        assert_eq!(kept, vec![row("/a", 40, 9), row("/c", 20, 5)]);
        assert_eq!(other, Some(row("(other)", 14, 7)));
        assert_eq!(folding, Folding { min_visitors: 5, folded_rows: 3, other_visitors: Some(OtherVisitors::Summed) });
    }

    #[test]
    fn the_keys_of_both_sides_are_kept_in_order() {
        let rows = vec![row("/a", 40, 9), row("/b", 7, 2), row("/c", 20, 5), row("/d", 3, 1)];
        let folded = fold_keyed(rows, 5);
        assert_eq!(folded.keys.kept, ["/a", "/c"]);
        assert_eq!(folded.keys.folded, ["/b", "/d"]);
    }

    #[test]
    fn no_small_row_means_no_other_row() {
        let (kept, other, folding) = fold_rows(vec![row("/a", 10, 5), row("/b", 6, 6)], 5);
        assert_eq!(kept.len(), 2);
        assert_eq!(other, None);
        assert_eq!(folding.folded_rows, 0);
    }

    #[test]
    fn a_single_small_row_is_relabelled_too() {
        let (kept, other, _) = fold_rows(vec![row("/secret-user-page", 2, 1)], 5);
        assert!(kept.is_empty());
        assert_eq!(other, Some(row("(other)", 2, 1)), "the path of the one small row is not shown");
    }

    #[test]
    fn every_given_filter_is_named_and_bound_like_the_reports() {
        let every = super::super::describe::sample_filters();
        let filters = Filters(&every);
        assert_eq!(filters.given().len(), Dimension::ALL.len());
        // The check reads the shared event condition, bound by the reports' own binder.
        let query = filter_visitors_query(
            clickhouse::Client::default().query(&sql::filter_visitors(filters)),
            "example.com",
            (10, 20),
            filters,
        );
        let text = query.sql_display().to_string();
        assert!(!text.contains('?'), "{text}");
        assert!(text.contains("10 AS range_start, 20 AS range_end"), "{text}");
        for filter in &every {
            // A goal binds its definition, never its name.
            let value = filter.goal.as_ref().map_or(&filter.value, |goal| &goal.event);
            let value = value.replace('\\', "\\\\").replace('\'', "\\'");
            assert!(text.contains(&format!("'{value}'")), "{} is not bound: {text}", filter.parameter());
        }
    }

    #[tokio::test]
    async fn no_filter_or_no_threshold_sends_nothing() {
        // The client points nowhere: a query would fail.
        let client = clickhouse::Client::default().with_url("http://127.0.0.1:9");
        let ctx = Ctx::new(&client, "footfall", "test");
        let none = Filters::NONE;
        let given =
            [Filter { dimension: Dimension::Path, key: String::new(), value: "/s".into(), negated: false, goal: None }];
        let path = Filters(&given);
        assert!(check_filters(&ctx, "example.com", (0, 1), none, 5).await.is_ok());
        for k in [0, 1] {
            assert!(check_filters(&ctx, "example.com", (0, 1), path, k).await.is_ok());
        }
        assert!(matches!(check_filters(&ctx, "example.com", (0, 1), path, 5).await, Err(ReportError::Store(_))));
    }

    #[test]
    fn thresholds_of_zero_and_one_fold_nothing() {
        for k in [0, 1] {
            let (kept, other, _) = fold_rows(vec![row("/a", 1, 1), row("/b", 2, 1)], k);
            assert_eq!((kept.len(), other), (2, None), "k = {k}");
        }
    }
}
