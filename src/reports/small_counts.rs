//! Small-count protection, so no report singles one person out. Two rules, both with the
//! threshold `reports.min_visitors` (0 or 1: off):
//!
//! - **Folding** ([`fold`]): rows of a breakdown (a path, a source, a device, a country, a
//!   new page) that fewer than `min_visitors` visitors account for are folded into one
//!   row labelled [`OTHER`], so no report names a page, referrer or device that one
//!   person accounts for. Folding happens after the rows are merged across days and
//!   before `limit`: the other row holds every small row of the range, and comes last.
//! - **Filters** ([`check_filters`]): a request with filters (`path`, `source`: whatever
//!   [`Filters::given`] lists) whose filters match fewer than `min_visitors` visitors in
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

use clickhouse::query::Query;

use super::error::ReportError;
use super::exec::{Ctx, Filters};
use super::sql;

/// The label of the row that holds the folded rows.
pub(crate) const OTHER: &str = "(other)";

/// What folding did to one report's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Folding {
    /// The threshold: rows with fewer visitors were folded.
    pub min_visitors: u64,
    /// How many rows were folded into the other row (0: no other row).
    pub folded_rows: usize,
}

/// Splits `rows` into the rows with at least `min_visitors` visitors, in their order, and
/// one row that adds up the others (the first small row, the others added to it by `add`,
/// relabelled by `label`), or none when no row is small. `min_visitors` of 0 or 1 folds
/// nothing.
pub(crate) fn fold<R>(
    rows: Vec<R>,
    min_visitors: u64,
    visitors: impl Fn(&R) -> u64,
    add: impl Fn(&mut R, &R),
    label: impl FnOnce(&mut R),
) -> (Vec<R>, Option<R>, Folding) {
    let (kept, small): (Vec<R>, Vec<R>) = rows.into_iter().partition(|row| visitors(row) >= min_visitors);
    let folding = Folding { min_visitors, folded_rows: small.len() };
    let mut small = small.into_iter();
    let other = small.next().map(|first| {
        let mut other = first;
        for row in small {
            add(&mut other, &row);
        }
        label(&mut other);
        other
    });
    (kept, other, folding)
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
    let visitors: u64 = filter_visitors_query(ctx.query(&sql::FILTER_VISITORS), site, bounds, filters)
        .fetch_one()
        .await
        .map_err(crate::store::StoreError::from)?;
    if visitors >= min_visitors {
        Ok(())
    } else {
        Err(ReportError::TooFewVisitors { field: given.join(","), min_visitors })
    }
}

/// Binds [`sql::FILTER_VISITORS`] the way every events-side report query is bound.
pub(crate) fn filter_visitors_query(query: Query, site: &str, (start, end): (u32, u32), filters: Filters<'_>) -> Query {
    sql::bind_events(query, &filters.events(site, "UTC", start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        fold(
            rows,
            k,
            |row| row.visitors,
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
        assert_eq!(folding, Folding { min_visitors: 5, folded_rows: 3 });
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
        let filters = |path, source| Filters { path, source };
        assert_eq!(filters("", "").given(), Vec::<&str>::new());
        assert_eq!(filters("/s", "").given(), ["path"]);
        assert_eq!(filters("", "t.co").given(), ["source"]);
        assert_eq!(filters("/s", "t.co").given(), ["path", "source"]);
        // The check reads the shared event condition, bound by the reports' own binder.
        let query = filter_visitors_query(
            clickhouse::Client::default().query(&sql::FILTER_VISITORS),
            "example.com",
            (10, 20),
            filters("/secret'", "t.co"),
        );
        let text = query.sql_display().to_string();
        assert!(text.contains("startsWith(path, '/secret\\'')"), "{text}");
        assert!(text.contains("('t.co' = '' OR source_class = 't.co' OR referrer_host = 't.co')"), "{text}");
        assert!(text.contains("10 AS range_start, 20 AS range_end"), "{text}");
    }

    #[tokio::test]
    async fn no_filter_or_no_threshold_sends_nothing() {
        // The client points nowhere: a query would fail.
        let client = clickhouse::Client::default().with_url("http://127.0.0.1:9");
        let ctx = Ctx::new(&client, "footfall", "test");
        let none = Filters { path: "", source: "" };
        let path = Filters { path: "/s", source: "" };
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
