//! `publish-timing`, when to publish: the pages that started in the range (as
//! content-discovery finds its pages: registered, with a publish time, or first viewed a
//! week after footfall's install; filters likewise), on a full 7 x 24 grid by the local
//! weekday (1 = Monday to 7) and hour of their start, each cell with its pages and their
//! median visitors in the 24 hours from their start, and the best cells: up to 3 with at
//! least 3 pages, by median reach, then more pages, then earlier in the week.
//!
//! Small counts: a cell whose pages have fewer than `min_visitors` visitors in their first
//! 24 hours together shows no median (`null`), so a median never stands for one person's
//! visit. The pages and their 24-hour visitors come from `discovery::started`.

use serde::Serialize;
use utoipa::ToSchema;

use super::compare::{self, previous, Against};
use super::discovery::{self, median};
use super::exec::{Ctx, Scope};
use super::render::{round, Header};
use crate::store::StoreError;

/// Cells in `best`.
const BEST_CELLS: usize = 3;
/// Fewest pages a cell needs to be among the best.
const BEST_MIN_PAGES: u64 = 3;

/// The answer of `publish-timing`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PublishTiming {
    #[serde(flatten)]
    pub header: Header,
    /// Cells whose pages have fewer visitors in their first 24 hours together show no
    /// median (0 or 1: every cell shows its median).
    pub min_visitors: u64,
    /// Pages that started in the range (the grid's pages added up).
    pub pages: u64,
    /// With `compare`: `pages` over the comparison range; absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PagesPrevious>,
    /// Up to 3 cells with at least 3 pages and a median, by median 24-hour visitors, then
    /// pages, then the earliest in the week.
    #[schema(max_items = 3)]
    pub best: Vec<PublishCell>,
    /// All 168 cells, Monday 0:00 first, empty ones included (also the CSV).
    #[schema(min_items = 168, max_items = 168)]
    pub grid: Vec<PublishCell>,
}

/// One weekday and local hour of starts (also its CSV line).
#[derive(Debug, Default, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct PublishCell {
    /// Local weekday of the pages' start, 1 = Monday to 7 = Sunday.
    pub weekday: u64,
    /// Local hour of the pages' start, 0 to 23.
    pub hour: u64,
    /// Pages that started in this hour of the week within the range.
    pub pages: u64,
    /// The median of those pages' visitors in the 24 hours from their start
    /// (visitor-days; the mean of the two middle pages for an even count), to 0.01; `null`
    /// without pages or when they have fewer than `min_visitors` visitors together.
    #[schema(required = true)]
    pub median_visitors_24h: Option<f64>,
    /// With `compare`: the same weekday and hour over the comparison range (its pages,
    /// their median, `null` by the same rule); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PublishPrevious>,
}

previous! {
    /// A publish-timing cell over the comparison range.
    PublishPrevious for PublishCell {
        /// Pages that started in this hour of the week within the comparison range.
        pages: u64,
        /// Their median visitors in their first 24 hours, as the cell's.
        median_visitors_24h: f64,
    }
}

previous! {
    /// The pages that started in the comparison range.
    PagesPrevious {
        pages: u64,
    }
}

/// The grid of the pages `started` (their starts and 24-hour visitors) in `tz`: each
/// cell's pages and median 24-hour visitors (shown with at least `min_visitors` visitors
/// together).
fn grid(started: &[(u32, u64)], tz: chrono_tz::Tz, min_visitors: u64) -> Vec<PublishCell> {
    let mut cells: Vec<Vec<Vec<u64>>> = vec![vec![Vec::new(); 24]; 7];
    for &(start, visitors_24h) in started {
        let (weekday, hour) = compare::cell_of(tz, start);
        cells[weekday][hour].push(visitors_24h);
    }
    let mut grid = Vec::with_capacity(7 * 24);
    for (weekday, hours) in (1u64..).zip(cells) {
        for (hour, mut reach) in (0u64..).zip(hours) {
            reach.sort_unstable();
            let shown = min_visitors <= 1 || reach.iter().sum::<u64>() >= min_visitors;
            let median_visitors_24h = median(&reach).filter(|_| shown).map(|median| round(median, 2));
            grid.push(PublishCell { weekday, hour, pages: reach.len() as u64, median_visitors_24h, previous: None });
        }
    }
    grid
}

/// The answer for `scope`, whose cells need `min_visitors` visitors to show a median;
/// with `against`, each cell and `pages` with the comparison range's.
pub(crate) async fn answer(
    ctx: &Ctx,
    scope: &Scope<'_>,
    header: Header,
    min_visitors: u64,
    against: Option<&Against<'_>>,
) -> Result<PublishTiming, StoreError> {
    let (started, then) = tokio::try_join!(
        discovery::started(ctx, scope),
        Against::read(against, |scope| async move { discovery::started(ctx, &scope).await }),
    )?;
    let pages = started.len() as u64;
    let tz = scope.range.tz;
    let then_grid = then.as_ref().map(|then| grid(then, tz, min_visitors));
    let mut grid = grid(&started, tz, min_visitors);
    for (at, cell) in grid.iter_mut().enumerate() {
        cell.previous =
            Against::unguarded(against, then_grid.as_ref(), |then: &Vec<PublishCell>| PublishPrevious::from(&then[at]));
    }
    let previous = Against::unguarded(against, then.as_ref(), |then: &Vec<(u32, u64)>| PagesPrevious {
        pages: Some(then.len() as u64),
        suppressed: false,
    });
    let mut best: Vec<PublishCell> = grid
        .iter()
        .filter(|cell| cell.pages >= BEST_MIN_PAGES && cell.median_visitors_24h.is_some())
        .cloned()
        .collect();
    // The grid is in week order and the sort is stable: equal cells stay earliest first.
    best.sort_by(|a, b| {
        b.median_visitors_24h
            .partial_cmp(&a.median_visitors_24h)
            .expect("medians are numbers")
            .then(b.pages.cmp(&a.pages))
    });
    best.truncate(BEST_CELLS);
    Ok(PublishTiming { header, min_visitors, pages, previous, best, grid })
}
