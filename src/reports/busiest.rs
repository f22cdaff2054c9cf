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
use serde::Deserialize;
use serde_json::{json, Value};

use super::exec::{self, Ctx, Scope};
use super::render::Table;
use super::sql::{self, BindSource};
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

/// Columns of the grid.
pub(crate) const GRID_COLUMNS: &[&str] = &["weekday", "hour", "views", "visitors"];
/// Columns of the windows.
pub(crate) const WINDOW_COLUMNS: &[&str] = &["start", "end", "views"];

/// The grid, the peak cell (`null` when the range has no pageviews) and the windows.
pub(crate) async fn answer(ctx: &Ctx, scope: &Scope<'_>) -> Result<(Table, Value, Table), StoreError> {
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
    let mut grid = Table::new(GRID_COLUMNS);
    let mut peak: Option<(u64, u64, u64, u64)> = None;
    for (weekday, hours) in (1u64..).zip(cells) {
        for (hour, (views, visitors)) in (0u64..).zip(hours) {
            grid.push(vec![weekday.into(), hour.into(), views.into(), visitors.into()]);
            if views > 0 && peak.is_none_or(|(_, _, most, more)| (views, visitors) > (most, more)) {
                peak = Some((weekday, hour, views, visitors));
            }
        }
    }
    let peak = peak.map_or(Value::Null, |(weekday, hour, views, visitors)| {
        json!({"weekday": weekday, "hour": hour, "views": views, "visitors": visitors})
    });

    let mut listed = Table::new(WINDOW_COLUMNS);
    for window in windows {
        let start = i64::from(window.start);
        listed.push(vec![
            time::rfc3339(tz, start).into(),
            time::rfc3339(tz, start + WINDOW_SECS).into(),
            window.views.into(),
        ]);
    }
    Ok((grid, peak, listed))
}

/// The busiest windows: from the view, or from events when a filter is given.
async fn windows(ctx: &Ctx, scope: &Scope<'_>) -> Result<Vec<WindowRow>, StoreError> {
    let (sql, bind) = windows_query(scope);
    let rows: Vec<WindowRow> = bind(ctx.query(sql)).fetch_all().await?;
    debug_assert!(rows.len() <= WINDOWS);
    Ok(rows)
}

/// The windows query for `scope` and how to bind it.
pub(crate) fn windows_query<'a>(scope: &Scope<'a>) -> (&'static str, impl FnOnce(Query) -> Query + 'a) {
    let (site, range, filters) = (scope.site, scope.range, scope.filters);
    let unfiltered = filters.is_empty();
    let sql = if unfiltered { sql::QUARTERS } else { &sql::QUARTERS_FROM_EVENTS };
    (sql, move |query: Query| {
        if unfiltered {
            query.bind(site).bind(range.start).bind(range.end)
        } else {
            query.bind(range.start).bind(range.end).bind(site).bind(filters.path).bind_source(filters.source)
        }
    })
}
