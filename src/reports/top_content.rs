//! `top-content`, what people like most: per path, pageviews, visitors, entries (the
//! pageviews that began a session), engaged time (the average per pageview, the sum, and
//! the median over its pageviews), the share of pageviews with at least 10 s engaged and
//! the share read through (to 75% of the page), in the order `sort` asks for. Reads the
//! `day_pages` and `day_page_histograms` summaries, and events for the days they do not
//! cover: the engagement figures come as counts of pageviews per whole engaged second,
//! which add up over days, so the median is exact however the range is read. Paths with
//! fewer than `min_visitors` visitors are folded into one `(other)` row.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compare::{self, previous, Against, Sides};
use super::exec::{self, Ctx, Scope, Split};
use super::params::Sort;
use super::render::{round, Header, SmallCounts};
use super::small_counts::{self, BreakdownRow, EventsSide, Folding};
use super::sql;
use crate::store::StoreError;

/// Engaged seconds from which a pageview counts as an engaged view.
const ENGAGED_VIEW_SECS: u32 = 10;

#[derive(Debug, Clone, Row, Deserialize)]
pub(crate) struct PageRow {
    path: String,
    views: u64,
    visitors: u64,
    entries: u64,
    engaged_ms: u64,
}

impl BreakdownRow for PageRow {
    type Key = String;
    const BREAKDOWN: &'static sql::Breakdown = &sql::PAGE_ROWS;
    fn key(&self) -> String {
        self.path.clone()
    }
    fn visitors(&self) -> u64 {
        self.visitors
    }
    fn set_visitors(&mut self, visitors: u64) {
        self.visitors = visitors;
    }
}

/// A path's pageviews by engaged time, and how many read through (the `engagement`
/// dataset).
#[derive(Debug, Row, Deserialize)]
pub(crate) struct EngagementRow {
    path: String,
    /// Engaged times, whole seconds, each once.
    seconds: Vec<u32>,
    /// The pageviews with each of `seconds`.
    views: Vec<u64>,
    /// The pageviews read through.
    read_through: u64,
}

/// The engagement of a path's pageviews: how many had each engaged time, how many read
/// through. Holds only the pageviews with an engaged second or a read through; the
/// path's other pageviews had 0 s.
#[derive(Debug, Default)]
struct Engagement {
    /// Pageviews per engaged time in whole seconds (none at 0).
    by_seconds: BTreeMap<u32, u64>,
    read_through: u64,
}

impl Engagement {
    fn add(&mut self, other: &Self) {
        for (&seconds, &views) in &other.by_seconds {
            *self.by_seconds.entry(seconds).or_insert(0) += views;
        }
        self.read_through += other.read_through;
    }

    /// The median engaged time of `views` pageviews, in seconds: the middle one's, or the
    /// mean of the two middle ones' for an even count (0 without views).
    fn median_seconds(&self, views: u64) -> f64 {
        if views == 0 {
            return 0.0;
        }
        let counted: u64 = self.by_seconds.values().sum();
        let zeros = views.saturating_sub(counted);
        // The engaged seconds of the `rank`-th pageview (from 0) in ascending order.
        let nth = |rank: u64| {
            let mut below = zeros;
            if rank < below {
                return 0;
            }
            for (&seconds, &count) in &self.by_seconds {
                below += count;
                if rank < below {
                    return seconds;
                }
            }
            self.by_seconds.keys().next_back().copied().unwrap_or(0)
        };
        let middle = views / 2;
        if views % 2 == 1 {
            f64::from(nth(middle))
        } else {
            (f64::from(nth(middle - 1)) + f64::from(nth(middle))) / 2.0
        }
    }

    /// Pageviews with at least [`ENGAGED_VIEW_SECS`] engaged.
    fn engaged_views(&self) -> u64 {
        self.by_seconds.range(ENGAGED_VIEW_SECS..).map(|(_, views)| views).sum()
    }
}

/// The answer of `top-content`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TopContent {
    #[serde(flatten)]
    pub header: Header,
    /// The order of `rows`, as asked (`sort`, default `views`).
    pub sort: Sort,
    pub small_counts: SmallCounts,
    /// In the order of `sort` (ties: more views first, then by path); the `(other)` row
    /// last.
    pub rows: Vec<TopContentRow>,
}

/// One path of `top-content` (also its CSV line).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct TopContentRow {
    /// The path, or `(other)` for the folded rows.
    pub path: String,
    /// Pageviews.
    pub views: u64,
    /// Visitors (visitor-days).
    pub visitors: u64,
    /// Pageviews that began a session.
    pub entries: u64,
    /// Engaged time per pageview, in seconds, to 0.1.
    pub avg_engaged_seconds: f64,
    /// Engaged time of the range's engagement events on the path, in minutes, to 0.1.
    pub engaged_minutes: f64,
    /// The median of its pageviews' engaged times in whole seconds (a pageview without
    /// engagement: 0); for an even count, the mean of the middle two (so .0 or .5).
    pub median_engaged_seconds: f64,
    /// Share of its pageviews with at least 10 s engaged, 0 to 1, to 4 places.
    #[schema(minimum = 0, maximum = 1)]
    pub engaged_view_share: f64,
    /// Share of its pageviews whose reader reached 75% of the page, 0 to 1, to 4 places.
    #[schema(minimum = 0, maximum = 1)]
    pub read_through_share: f64,
    /// With `compare`: the path's numbers over the comparison range (`(other)`: of the
    /// same folded paths); absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<TopContentPrevious>,
}

previous! {
    /// A top-content row's numbers over the comparison range. A path without views there
    /// has 0 views, visitors, entries and engaged minutes, and `null` averages, median
    /// and shares (nothing to divide).
    TopContentPrevious for TopContentRow {
        views: u64,
        visitors: u64,
        entries: u64,
        avg_engaged_seconds: f64,
        engaged_minutes: f64,
        median_engaged_seconds: f64,
        engaged_view_share: f64,
        read_through_share: f64,
    }
}

impl TopContentPrevious {
    /// A path without views in the comparison range.
    fn zeros() -> Self {
        Self { views: Some(0), visitors: Some(0), entries: Some(0), engaged_minutes: Some(0.0), ..Self::default() }
    }
}

/// What top-content reads of a range: its paths with views (each once), their
/// engagement, and how they were read.
struct Read {
    pages: Vec<PageRow>,
    by_path: HashMap<String, Engagement>,
    split: Option<Split>,
    events_side: EventsSide<String>,
}

/// Reads `scope`'s paths and their engagement.
async fn read(ctx: &Ctx, scope: &Scope<'_>) -> Result<Read, StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::PAGES, &sql::ENGAGEMENT]).await?;
    let (pages, engagement) = tokio::try_join!(
        small_counts::read::<PageRow>(ctx, scope, split),
        exec::fetch::<EngagementRow>(ctx, &sql::ENGAGEMENT, scope, split),
    )?;
    let (rows, events_side) = pages;
    let mut by_path: HashMap<String, Engagement> = HashMap::new();
    for row in engagement {
        let path = by_path.entry(row.path).or_default();
        for (seconds, views) in row.seconds.into_iter().zip(row.views) {
            *path.by_seconds.entry(seconds).or_insert(0) += views;
        }
        path.read_through += row.read_through;
    }
    let mut pages = exec::merge(rows, PageRow::key, |total, row| add(total, &row));
    pages.retain(|page| page.views > 0);
    Ok(Read { pages, by_path, split, events_side })
}

/// Adds `row`'s counts to `total`'s.
fn add(total: &mut PageRow, row: &PageRow) {
    total.views += row.views;
    total.visitors += row.visitors;
    total.entries += row.entries;
    total.engaged_ms += row.engaged_ms;
}

/// The engagement of `paths` added up.
fn engagement_of<'a>(by_path: &HashMap<String, Engagement>, paths: impl IntoIterator<Item = &'a String>) -> Engagement {
    let mut total = Engagement::default();
    for path in paths {
        if let Some(engagement) = by_path.get(path) {
            total.add(engagement);
        }
    }
    total
}

/// The first `limit` paths seen by at least `min_visitors` visitors in the order of
/// `sort`, then the others as one row; with `against`, each with its `previous`.
pub(crate) async fn rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
    sort: Sort,
    against: Option<&Against<'_>>,
) -> Result<(Vec<TopContentRow>, Folding), StoreError> {
    let (now, then) =
        tokio::try_join!(read(ctx, scope), Against::read(against, |scope| async move { read(ctx, &scope).await }))?;
    let Read { mut pages, by_path, split, events_side } = now;
    let read_through = |page: &PageRow| by_path.get(&page.path).map_or(0, |engagement| engagement.read_through);
    pages.sort_by(|a, b| {
        let first = match sort {
            Sort::Views => Ordering::Equal,
            Sort::Visitors => b.visitors.cmp(&a.visitors),
            Sort::EngagedMinutes => b.engaged_ms.cmp(&a.engaged_ms),
            // The exact shares, compared as fractions.
            Sort::ReadThrough => (u128::from(read_through(b)) * u128::from(a.views))
                .cmp(&(u128::from(read_through(a)) * u128::from(b.views))),
        };
        first.then_with(|| b.views.cmp(&a.views)).then_with(|| a.path.cmp(&b.path))
    });
    let small_counts::Folded { kept: mut pages, mut other, mut folding, keys } =
        small_counts::fold(pages, min_visitors, PageRow::visitors, PageRow::key, add, |other| {
            other.path = small_counts::OTHER.into()
        });
    pages.truncate(limit as usize);
    let other_engagement = engagement_of(&by_path, &keys.folded);
    let shown: Vec<String> = pages.iter().map(PageRow::key).collect();
    let has_other = other.is_some();
    let other_visitors = async {
        match &other {
            Some(other) => {
                small_counts::other_visitors::<PageRow>(ctx, scope, split, &keys, other.visitors, &events_side)
                    .await
                    .map(Some)
            }
            None => Ok(None),
        }
    };
    let compared = async {
        match (against, then) {
            (Some(against), Some(then)) => {
                let Read { pages, by_path, split, events_side } = then;
                let sides = Sides { rows: pages, split, events_side };
                let folded = has_other.then_some(keys.folded.as_slice());
                let (rows, other) = compare::breakdown(ctx, &against.scope, sides, &shown, folded, add).await?;
                Ok::<_, StoreError>(Some((rows, other, by_path)))
            }
            _ => Ok(None),
        }
    };
    let (counted, then) = tokio::try_join!(other_visitors, compared)?;
    if let (Some(other), Some((visitors, how))) = (other.as_mut(), counted) {
        (other.visitors, folding.other_visitors) = (visitors, Some(how));
    }

    // A comparison row as `previous` (the path's, or the same folded paths' added up).
    let previous_of = |page: Option<&PageRow>, engagement: &Engagement| match page {
        Some(page) => {
            let row = row(page.clone(), engagement, None);
            (TopContentPrevious::from(&row), row.visitors)
        }
        None => (TopContentPrevious::zeros(), 0),
    };
    let none = Engagement::default();
    let rows = pages
        .into_iter()
        .enumerate()
        .map(|(at, page)| {
            let engagement = by_path.get(&page.path).unwrap_or(&none);
            let previous = Against::previous(against, then.as_ref(), |(rows, _, by_path)| {
                let page = rows[at].as_ref();
                previous_of(page, page.and_then(|page| by_path.get(&page.path)).unwrap_or(&none))
            });
            row(page, engagement, previous)
        })
        .chain(other.map(|other| {
            let previous = Against::previous(against, then.as_ref(), |(_, other, by_path)| {
                let other = other.as_ref().expect("an other row compares").as_ref();
                previous_of(other, &engagement_of(by_path, &keys.folded))
            });
            row(other, &other_engagement, previous)
        }))
        .collect();
    Ok((rows, folding))
}

/// The answer's row of `page` with its `engagement` and `previous`.
fn row(page: PageRow, engagement: &Engagement, previous: Option<TopContentPrevious>) -> TopContentRow {
    let share = |part: u64| round(part as f64 / page.views as f64, 4);
    TopContentRow {
        avg_engaged_seconds: round(page.engaged_ms as f64 / page.views as f64 / 1000.0, 1),
        engaged_minutes: round(page.engaged_ms as f64 / 60_000.0, 1),
        median_engaged_seconds: engagement.median_seconds(page.views),
        engaged_view_share: share(engagement.engaged_views()),
        read_through_share: share(engagement.read_through),
        path: page.path,
        views: page.views,
        visitors: page.visitors,
        entries: page.entries,
        previous,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engagement(counts: &[(u32, u64)]) -> Engagement {
        Engagement { by_seconds: counts.iter().copied().collect(), read_through: 0 }
    }

    #[test]
    fn the_median_counts_the_views_without_engagement_as_zero() {
        // 0, 0, 3, 12, 12: the middle one.
        assert_eq!(engagement(&[(3, 1), (12, 2)]).median_seconds(5), 3.0);
        // 0, 3, 12, 12: the mean of the middle two.
        assert_eq!(engagement(&[(3, 1), (12, 2)]).median_seconds(4), 7.5);
        // 0, 0, 0, 12.
        assert_eq!(engagement(&[(12, 1)]).median_seconds(4), 0.0);
        assert_eq!(engagement(&[]).median_seconds(0), 0.0);
        assert_eq!(engagement(&[(9, 1), (10, 2), (40, 1)]).engaged_views(), 3);
    }
}
