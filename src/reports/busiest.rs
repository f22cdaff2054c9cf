//! `busiest-times`, the busiest time of day: a full 7 x 24 grid (weekday 1 = Monday to 7,
//! local hour 0 to 23) of pageviews and visitors, zeros included, its peak cell, and the
//! ten busiest 15-minute windows of the range. The peak is the cell with the most views;
//! among equals, the most visitors, then the earliest in the week.
//!
//! `measure=average` divides each cell by its occurrences: how many times its weekday and
//! local hour occur in the range ([`time::Range::hour_starts`]: a local hour skipped by a
//! DST change occurs 0 times that day, a repeated one twice), and the peak compares those
//! averages (exactly, as fractions).
//!
//! A cell adds up the local hours it covers: its visitors are the sum of each hour's
//! distinct visitors (an hour belongs to one day, so these are visitor-days). The grid
//! reads `hour_totals` summaries and events for the days they do not cover; the windows
//! read the `site_quarters` view, or events when a filter is given.

use clickhouse::query::Query;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compare::{self, previous, Against};
use super::exec::{self, Ctx, Scope};
use super::params::Measure;
use super::render::{round, Header};
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
    /// What the cells count, as asked (`measure`, default `total`).
    pub measure: Measure,
    /// The cell with the most views (among equals, the most visitors, then the earliest in
    /// the week); `null` when the range has no pageviews. With `compare`, its `previous` is
    /// the same cell's over the comparison range (not the comparison's own peak).
    #[schema(required = true)]
    pub peak: Option<GridCell>,
    /// All 168 cells, Monday 0:00 first, zeros included (also the CSV).
    #[schema(min_items = 168, max_items = 168)]
    pub grid: Vec<GridCell>,
    /// The busiest 15-minute windows of the range, at most 10, busiest first (moments of
    /// the range: not compared).
    #[schema(max_items = 10)]
    pub windows: Vec<BusyWindow>,
}

/// One weekday and local hour of the grid (also its CSV line).
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub(crate) struct GridCell {
    /// 1 = Monday to 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: u64,
    /// Local hour, 0 to 23.
    #[schema(maximum = 23)]
    pub hour: u64,
    /// Pageviews: under `measure=total` their number; under `average` that divided by
    /// `occurrences`, to 2 places (`null` when `occurrences` is 0).
    pub views: Amount,
    /// Visitors: each hour's distinct visitors, added up; under `average` divided as
    /// `views` is.
    pub visitors: Amount,
    /// How many times this weekday and local hour occur in the range.
    pub occurrences: u64,
    /// With `compare`: the same weekday and hour over the comparison range, counted as
    /// `measure` says (`average`: divided by its own occurrences there); absent without
    /// `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<GridPrevious>,
}

previous! {
    /// A grid cell over the comparison range.
    GridPrevious for GridCell {
        /// Pageviews, as `views` of the cell.
        views: Amount,
        /// Visitors, as `visitors` of the cell.
        visitors: Amount,
        /// How many times the weekday and local hour occur in the comparison range.
        occurrences: u64,
    }
}

/// A cell's count: a whole number (`measure=total`), or an average to 2 places, `null`
/// where the cell does not occur in the range (`measure=average`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum Amount {
    Total(u64),
    Average(Option<f64>),
}

impl Default for Amount {
    fn default() -> Self {
        Self::Total(0)
    }
}

impl Amount {
    /// `total` as `measure` shows it for a cell that occurs `occurrences` times.
    fn of(total: u64, occurrences: u64, measure: Measure) -> Self {
        match measure {
            Measure::Total => Self::Total(total),
            Measure::Average => Self::Average((occurrences > 0).then(|| round(total as f64 / occurrences as f64, 2))),
        }
    }
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

/// Per weekday (0 = Monday) and local hour: views, visitors, occurrences.
type Cells = [[(u64, u64, u64); 24]; 7];

/// The grid's counts over `scope`'s range.
async fn cells(ctx: &Ctx, scope: &Scope<'_>) -> Result<Cells, StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::HOURS]).await?;
    let hours = exec::fetch::<HourRow>(ctx, &sql::HOURS, scope, split).await?;
    let tz = scope.range.tz;
    let mut cells = [[(0u64, 0u64, 0u64); 24]; 7];
    for row in hours {
        let (weekday, hour) = compare::cell_of(tz, row.hour);
        let cell = &mut cells[weekday][hour];
        cell.0 += row.views;
        cell.1 += row.visitors;
    }
    for start in scope.range.hour_starts() {
        let (weekday, hour) = compare::cell_of(tz, start);
        cells[weekday][hour].2 += 1;
    }
    Ok(cells)
}

/// The answer after `header`: the grid, its peak and the windows; with `against`, each
/// cell with the same cell of the comparison range.
pub(crate) async fn answer(
    ctx: &Ctx,
    scope: &Scope<'_>,
    header: Header,
    measure: Measure,
    against: Option<&Against<'_>>,
) -> Result<BusiestTimes, StoreError> {
    let (cells, windows, then) = tokio::try_join!(
        cells(ctx, scope),
        windows(ctx, scope),
        Against::read(against, |scope| async move { cells(ctx, &scope).await }),
    )?;

    let tz = scope.range.tz;
    // `a` is busier than `b`: more views, then more visitors, per occurrence under
    // `average` (compared as fractions, so rounding decides nothing).
    let busier = |a: (u64, u64, u64), b: (u64, u64, u64)| match measure {
        Measure::Total => (a.0, a.1) > (b.0, b.1),
        Measure::Average => {
            let per = |x: u64, y: (u64, u64, u64)| u128::from(x) * u128::from(y.2);
            (per(a.0, b), per(a.1, b)) > (per(b.0, a), per(b.1, a))
        }
    };
    let mut grid = Vec::with_capacity(7 * 24);
    let mut peak: Option<(usize, (u64, u64, u64))> = None;
    for (weekday, hours) in (1u64..).zip(cells) {
        for (hour, counts) in (0u64..).zip(hours) {
            let (views, visitors, occurrences) = counts;
            let previous = Against::unguarded(against, then.as_ref(), |then: &Cells| {
                let (views, visitors, occurrences) = then[weekday as usize - 1][hour as usize];
                GridPrevious {
                    views: Some(Amount::of(views, occurrences, measure)),
                    visitors: Some(Amount::of(visitors, occurrences, measure)),
                    occurrences: Some(occurrences),
                    suppressed: false,
                }
            });
            if views > 0 && peak.is_none_or(|(_, most)| busier(counts, most)) {
                peak = Some((grid.len(), counts));
            }
            grid.push(GridCell {
                weekday,
                hour,
                views: Amount::of(views, occurrences, measure),
                visitors: Amount::of(visitors, occurrences, measure),
                occurrences,
                previous,
            });
        }
    }
    let peak = peak.map(|(at, _)| grid[at].clone());

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
    Ok(BusiestTimes { header, measure, peak, grid, windows })
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
