//! `top-content`, what people like most: per path, pageviews, visitors, entries (the
//! pageviews that began a session) and the average engaged time per pageview, by views
//! then path. Reads `day_pages` summaries, and events for the days they do not cover.
//! Paths with fewer than `min_visitors` visitors are folded into one `(other)` row.

use clickhouse::Row;
use serde::Deserialize;

use super::exec::{self, Ctx, Scope};
use super::render::{round, Table};
use super::small_counts::{self, Folding};
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

/// Columns of the answer.
pub(crate) const COLUMNS: &[&str] = &["path", "views", "visitors", "entries", "avg_engaged_seconds"];

/// The `limit` most viewed paths seen by at least `min_visitors` visitors, then the
/// others as one row.
pub(crate) async fn table(
    ctx: &Ctx,
    scope: &Scope<'_>,
    limit: u64,
    min_visitors: u64,
) -> Result<(Table, Folding), StoreError> {
    let split = exec::split_for(ctx, scope, &[&sql::PAGES]).await?;
    let rows: Vec<PageRow> = exec::fetch(ctx, &sql::PAGES, scope, split).await?;
    let add = |total: &mut PageRow, row: &PageRow| {
        total.views += row.views;
        total.visitors += row.visitors;
        total.entries += row.entries;
        total.engaged_ms += row.engaged_ms;
    };
    let mut pages = exec::merge(rows, |row| row.path.clone(), |total, row| add(total, &row));
    pages.retain(|page| page.views > 0);
    pages.sort_by(|a, b| b.views.cmp(&a.views).then_with(|| a.path.cmp(&b.path)));
    let (mut pages, other, folding) = small_counts::fold(
        pages,
        min_visitors,
        |page| page.visitors,
        add,
        |other| other.path = small_counts::OTHER.into(),
    );
    pages.truncate(limit as usize);
    let mut table = Table::new(COLUMNS);
    for page in pages.into_iter().chain(other) {
        let average = round(page.engaged_ms as f64 / page.views as f64 / 1000.0, 1);
        table.push(vec![
            page.path.into(),
            page.views.into(),
            page.visitors.into(),
            page.entries.into(),
            Some(average).into(),
        ]);
    }
    Ok((table, folding))
}
