//! `busiest-times`, the busiest time of day: a full 7 x 24 grid (weekday 1 = Monday to 7,
//! local hour 0 to 23) of pageviews and visitors, zeros included, its peak cell, and the
//! ten busiest 15-minute windows of the range. The peak is the cell with the most views;
//! among equals, the most visitors, then the earliest in the week.
//!
//! A cell adds up the local hours it covers: its visitors are the sum of each hour's
//! distinct visitors (an hour belongs to one day, so these are visitor-days). The grid
//! reads `hour_totals` summaries and events for the days they do not cover; the windows
//! read the `site_quarters` view, or events when a filter is given.

use chrono::{Datelike, Timelike};
use clickhouse::query::Query;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::exec::{self, Ctx, Scope};
use super::render::Header;
use super::sql::{self, BindScope, EventScope};
use super::time;
use crate::store::StoreError;

/// Windows listed.
const WINDOWS: usize = 10;
/// Length of a window, in seconds.
const WINDOW_SECS: i64 = 900;

/// One local hour of the site (the `hours` dataset).
#[derive(Debug, Row, Deserialize)]
pub(crate) struct HourRow {
    /// The local date (selected for the summaries; the hour says it all here).
    #[serde(rename = "day")]
    pub _day: u16,
    /// Start of the local hour, UTC seconds.
    pub hour: u32,
    pub views: u64,
    pub visitors: u64,
}

#[derive(Debug, Row, Deserialize)]
pub(crate) struct WindowRow {
    start: u32,
    views: u64,
}

/// The answer of `busiest-times`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BusiestTimes {
    #[serde(flatten)]
    pub header: Header,
    /// The cell with the most views (among equals, the most visitors, then the earliest in
    /// the week); `null` when the range has no pageviews.
    #[schema(required = true)]
    pub peak: Option<GridCell>,
    /// All 168 cells, Monday 0:00 first, zeros included (also the CSV).
    #[schema(min_items = 168, max_items = 168)]
    pub grid: Vec<GridCell>,
    /// The busiest 15-minute windows of the range, at most 10, busiest first.
    #[schema(max_items = 10)]
    pub windows: Vec<BusyWindow>,
}

/// One weekday and local hour of the grid (also its CSV line).
#[derive(Debug, Default, Clone, Copy, Serialize, ToSchema)]
pub(crate) struct GridCell {
    /// 1 = Monday to 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: u64,
    /// Local hour, 0 to 23.
    #[schema(maximum = 23)]
    pub hour: u64,
    /// Pageviews.
    pub views: u64,
    /// Visitors: each hour's distinct visitors, added up.
    pub visitors: u64,
}

/// One 15-minute window.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BusyWindow {
    /// Start (RFC 3339, in the answer's time zone).
    #[schema(format = DateTime)]
    pub start: String,
    /// End, 15 minutes later.
    #[schema(format = DateTime)]
    pub end: String,
    /// Pageviews.
    pub views: u64,
}

/// The answer after `header`: the grid, its peak and the windows.
pub(crate) async fn answer(ctx: &Ctx, scope: &Scope<'_>, header: Header) -> Result<BusiestTimes, StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::HOURS]).await?;
    let hours = exec::fetch::<HourRow>(ctx, &sql::HOURS, scope, split);
    let windows = windows(ctx, scope);
    let (hours, windows) = tokio::try_join!(hours, windows)?;

    let tz = scope.range.tz;
    let mut cells = [[(0u64, 0u64); 24]; 7];
    for row in hours {
        let local = time::local(tz, i64::from(row.hour));
        let cell = &mut cells[local.weekday().num_days_from_monday() as usize][local.hour() as usize];
        cell.0 += row.views;
        cell.1 += row.visitors;
    }
    let mut grid = Vec::with_capacity(7 * 24);
    let mut peak: Option<GridCell> = None;
    for (weekday, hours) in (1u64..).zip(cells) {
        for (hour, (views, visitors)) in (0u64..).zip(hours) {
            let cell = GridCell { weekday, hour, views, visitors };
            grid.push(cell);
            if views > 0 && peak.is_none_or(|most| (views, visitors) > (most.views, most.visitors)) {
                peak = Some(cell);
            }
        }
    }

    let windows = windows
        .into_iter()
        .map(|window| {
            let start = i64::from(window.start);
            BusyWindow {
                start: time::rfc3339(tz, start),
                end: time::rfc3339(tz, start + WINDOW_SECS),
                views: window.views,
            }
        })
        .collect();
    Ok(BusiestTimes { header, peak, grid, windows })
}

/// The busiest windows: from the view, or from events when a filter is given.
async fn windows(ctx: &Ctx, scope: &Scope<'_>) -> Result<Vec<WindowRow>, StoreError> {
    let (sql, bind) = windows_query(scope);
    let rows: Vec<WindowRow> = bind(ctx.query(&sql)).fetch_all().await?;
    debug_assert!(rows.len() <= WINDOWS);
    Ok(rows)
}

/// The windows query for `scope` and how to bind it.
pub(crate) fn windows_query<'a>(scope: &Scope<'a>) -> (String, impl FnOnce(Query) -> Query + 'a) {
    let (site, range, filters) = (scope.site, scope.range, scope.filters);
    let unfiltered = filters.is_empty();
    let sql = if unfiltered { sql::QUARTERS.to_string() } else { sql::quarters_from_events(filters) };
    let events: EventScope<'a> = scope.events(range.start, range.end);
    (sql, move |query: Query| {
        if unfiltered {
            query.bind(site).bind(range.start).bind(range.end)
        } else {
            query.bind(range.start).bind(range.end).bind_scope(&events)
        }
    })
}
