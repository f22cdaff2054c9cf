//! Running one request's queries: tagging them for `system.query_log`, deciding which
//! days come from summaries and which from events (the plan), and reading a dataset from
//! both.
//!
//! The plan: a site-local day is read from its summary when the summary is current (it
//! was computed from as many events as the `site_quarters` view counts for that day now)
//! or the day has no events. Days from the first one that is not so (typically today)
//! to the end of the range are read from events. So answers never depend on whether the
//! summarizer has run: summaries only make them faster.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Days, NaiveDate};
use clickhouse::query::Query;
use clickhouse::{Row, RowOwned, RowRead};
use serde::Deserialize;

use super::filters::Filters;
use super::sql::{self, Dataset, EventScope};
use super::summarize;
use super::time::{date_from_day_number, day_start, Range};
use crate::store::StoreError;

/// One request's connection to ClickHouse: every query it sends carries a query id
/// `footfall:<database>:<report>:<request>:<n>` and is logged in `system.query_log`.
#[derive(Debug)]
pub(crate) struct Ctx {
    client: clickhouse::Client,
    tag: String,
    sent: AtomicU32,
}

impl Ctx {
    pub(crate) fn new(client: &clickhouse::Client, database: &str, report: &str) -> Self {
        let nonce = crate::random::hex(6);
        Self { client: client.clone(), tag: format!("footfall:{database}:{report}:{nonce}"), sent: AtomicU32::new(0) }
    }

    /// A query on footfall's database, tagged.
    pub(crate) fn query(&self, sql: &str) -> Query {
        let n = self.sent.fetch_add(1, Ordering::Relaxed);
        self.client.query(sql).with_setting("log_queries", "1").with_setting("query_id", format!("{}:{n}", self.tag))
    }
}

/// What a request reads: a site, a range in a time zone, filters, and whether that time
/// zone is the site's own (summaries are per site-local day).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub site: &'a str,
    pub range: Range,
    pub filters: Filters<'a>,
    pub site_time_zone: bool,
}

impl<'a> Scope<'a> {
    /// The events side of a query over `[start, end)`.
    pub(crate) fn events(&self, start: u32, end: u32) -> EventScope<'a> {
        EventScope { site: self.site, tz: self.range.tz.name(), start, end, filters: self.filters }
    }

    /// Whether `dataset`'s summaries can answer this request's days: in the site's time
    /// zone, with filters the summary table has columns for.
    pub(crate) fn summaries_serve(&self, dataset: &Dataset) -> bool {
        self.site_time_zone && self.filters.all_among(dataset.summary_dims)
    }
}

/// The days `[range.from, summarized_until)` come from summaries, `[events_from, range.end)`
/// (UTC seconds, the start of `summarized_until`) from events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    pub summarized_until: NaiveDate,
    pub events_from: u32,
    /// The events of the summarized days (what reading them instead would cost).
    pub summarized_events: u64,
}

#[derive(Row, Deserialize)]
pub(crate) struct PlanRow {
    /// Days since 1970-01-01.
    pub day_number: u16,
    pub events: u64,
    pub summarized_events: u64,
    /// 0 when the day has no summary.
    pub latest_version: u64,
}

impl PlanRow {
    /// The day's newest summary was computed from all of its events.
    pub(crate) fn summary_is_current(&self) -> bool {
        self.latest_version > 0 && self.summarized_events == self.events
    }
}

/// Binds [`sql::PLAN`]: `site`'s days in `tz` within `[start, end)` (UTC seconds) and
/// their summaries of the current format ([`summarize::FORMAT`]) among the days
/// `first..=last`.
pub(crate) fn plan_query(
    query: Query,
    site: &str,
    tz: &str,
    (start, end): (u32, u32),
    (first, last): (NaiveDate, NaiveDate),
) -> Query {
    query
        .bind(tz)
        .bind(site)
        .bind(start)
        .bind(end)
        .bind(site)
        .bind(tz)
        .bind(first.to_string())
        .bind(last.to_string())
        .bind(summarize::FORMAT)
}

/// Per-day event counts and newest summaries of `site`'s days `[start, end)` in `tz`.
pub(crate) async fn plan_rows(
    ctx: &Ctx,
    site: &str,
    tz: &str,
    bounds: (u32, u32),
    days: (NaiveDate, NaiveDate),
) -> Result<Vec<PlanRow>, StoreError> {
    plan_query(ctx.query(sql::PLAN), site, tz, bounds, days).fetch_all().await.map_err(StoreError::from)
}

/// Binds [`Dataset::summary_sql`] for the request's days `[range.from, until)`.
pub(crate) fn summary_query(query: Query, dataset: &Dataset, scope: &Scope<'_>, until: NaiveDate) -> Query {
    let range = scope.range;
    let query = sql::bind_summary(query, scope.site, range.tz.name(), &range.from.to_string(), &until.to_string());
    scope.filters.bind(query, dataset.summary_dims, scope.site, range.start, range.end)
}

/// Where the request's range switches from summaries to events.
pub(crate) async fn split(ctx: &Ctx, scope: &Scope<'_>) -> Result<Split, StoreError> {
    let range = scope.range;
    let rows = plan_rows(ctx, scope.site, range.tz.name(), (range.start, range.end), (range.from, range.to)).await?;
    let first_stale =
        rows.iter().filter(|row| !row.summary_is_current()).map(|row| date_from_day_number(row.day_number)).min();
    let (summarized_until, events_from) = match first_stale {
        Some(day) => {
            let day = day.max(range.from);
            (day, day_start(range.tz, day))
        }
        None => (range.to.checked_add_days(Days::new(1)).expect("dates are before 2100"), range.end),
    };
    let summarized_events =
        rows.iter().filter(|row| date_from_day_number(row.day_number) < summarized_until).map(|row| row.events).sum();
    Ok(Split { summarized_until, events_from, summarized_events })
}

/// Reads `dataset` for the request: its summaries for the days they serve, events for
/// the rest, both at once. `split` comes from [`split`] (computed once per request);
/// `None` reads events only. The rows of the two sides are returned together; callers
/// add up rows with equal keys.
pub(crate) async fn fetch<T>(
    ctx: &Ctx,
    dataset: &Dataset,
    scope: &Scope<'_>,
    split: Option<Split>,
) -> Result<Vec<T>, StoreError>
where
    T: RowOwned + RowRead,
{
    let (mut rows, from_events) = fetch_sides(ctx, dataset, scope, split).await?;
    rows.extend(from_events);
    Ok(rows)
}

/// [`fetch`], the two sides apart: the summarized days' rows, then the events' rows.
pub(crate) async fn fetch_sides<T>(
    ctx: &Ctx,
    dataset: &Dataset,
    scope: &Scope<'_>,
    split: Option<Split>,
) -> Result<(Vec<T>, Vec<T>), StoreError>
where
    T: RowOwned + RowRead,
{
    let range = scope.range;
    let split = match split {
        Some(split) if scope.summaries_serve(dataset) => split,
        _ => Split { summarized_until: range.from, events_from: range.start, summarized_events: 0 },
    };
    let summarized = async {
        if split.summarized_until <= range.from {
            return Ok(Vec::new());
        }
        let sql = dataset.summary_sql(scope.filters);
        summary_query(ctx.query(&sql), dataset, scope, split.summarized_until).fetch_all::<T>().await
    };
    let from_events = async {
        if split.events_from >= range.end {
            return Ok(Vec::new());
        }
        let sql = dataset.events_sql(scope.filters);
        dataset.bind_events(ctx.query(&sql), &scope.events(split.events_from, range.end)).fetch_all::<T>().await
    };
    Ok(tokio::try_join!(summarized, from_events)?)
}

/// Whether `split` is needed at all: any of `datasets` can use summaries.
pub(crate) fn wants_split(scope: &Scope<'_>, datasets: &[&Dataset]) -> bool {
    datasets.iter().any(|dataset| scope.summaries_serve(dataset))
}

/// [`split`] when summaries can serve one of `datasets`, else `None`.
pub(crate) async fn split_for(
    ctx: &Ctx,
    scope: &Scope<'_>,
    datasets: &[&Dataset],
) -> Result<Option<Split>, StoreError> {
    if wants_split(scope, datasets) {
        split(ctx, scope).await.map(Some)
    } else {
        Ok(None)
    }
}

/// Adds up rows with equal keys (the summary and events sides of a dataset, or the days
/// of one page): the first row of each key absorbs the others with `add`.
pub(crate) fn merge<R, K: std::hash::Hash + Eq>(
    rows: Vec<R>,
    key: impl Fn(&R) -> K,
    add: impl Fn(&mut R, R),
) -> Vec<R> {
    let mut index = std::collections::HashMap::new();
    let mut merged: Vec<R> = Vec::new();
    for row in rows {
        match index.entry(key(&row)) {
            std::collections::hash_map::Entry::Occupied(slot) => add(&mut merged[*slot.get()], row),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(merged.len());
                merged.push(row);
            }
        }
    }
    merged
}
