//! `top-content`, what people like most: per path, pageviews, visitors, entries (the
//! pageviews that began a session) and the average engaged time per pageview, by views
//! then path. Reads `day_pages` summaries, and events for the days they do not cover.
//! Paths with fewer than `min_visitors` visitors are folded into one `(other)` row.

use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::exec::{self, Ctx, Scope};
use super::render::{round, Header, SmallCounts};
use super::small_counts::{self, BreakdownRow, Folding};
use super::sql;
use crate::store::StoreError;

#[derive(Debug, Row, Deserialize)]
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
}

/// The answer of `top-content`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TopContent {
    #[serde(flatten)]
    pub header: Header,
    pub small_counts: SmallCounts,
    /// By views, then path; the `(other)` row last.
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
}

/// The `limit` most viewed paths seen by at least `min_visitors` visitors, then the
/// others as one row.
pub(crate) async fn rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Vec<TopContentRow>, Folding), StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::PAGES]).await?;
    let (rows, events_side) = small_counts::read::<PageRow>(ctx, scope, split).await?;
    let add = |total: &mut PageRow, row: &PageRow| {
        total.views += row.views;
        total.visitors += row.visitors;
        total.entries += row.entries;
        total.engaged_ms += row.engaged_ms;
    };
    let mut pages = exec::merge(rows, PageRow::key, |total, row| add(total, &row));
    pages.retain(|page| page.views > 0);
    pages.sort_by(|a, b| b.views.cmp(&a.views).then_with(|| a.path.cmp(&b.path)));
    let small_counts::Folded { kept: mut pages, mut other, mut folding, keys } =
        small_counts::fold(pages, min_visitors, PageRow::visitors, PageRow::key, add, |other| {
            other.path = small_counts::OTHER.into()
        });
    if let Some(other) = other.as_mut() {
        let (visitors, how) =
            small_counts::other_visitors::<PageRow>(ctx, scope, split, &keys, other.visitors, &events_side).await?;
        (other.visitors, folding.other_visitors) = (visitors, Some(how));
    }
    pages.truncate(limit as usize);
    let rows = pages
        .into_iter()
        .chain(other)
        .map(|page| TopContentRow {
            avg_engaged_seconds: round(page.engaged_ms as f64 / page.views as f64 / 1000.0, 1),
            path: page.path,
            views: page.views,
            visitors: page.visitors,
            entries: page.entries,
        })
        .collect();
    Ok((rows, folding))
}
