//! `timeseries`: pageviews and visitors per local day (`interval=day`, the default) or
//! per local hour (`interval=hour`), every bucket of the range listed, zeros included.
//! A day has 23 or 25 hours at a DST change; a repeated hour is listed twice, with its
//! UTC offset telling them apart. Reads `day_totals` / `hour_totals` summaries and events
//! for the days they do not cover.

use std::collections::HashMap;

use clickhouse::Row;
use serde::Deserialize;

use super::busiest::HourRow;
use super::exec::{self, Ctx, Scope};
use super::params::Interval;
use super::render::Table;
use super::sql;
use super::time::{self, day_start};
use crate::store::StoreError;

#[derive(Debug, Row, Deserialize)]
pub(crate) struct DayRow {
    day: u16,
    views: u64,
    visitors: u64,
}

/// Columns of the answer.
pub(crate) const COLUMNS: &[&str] = &["start", "views", "visitors"];

/// One row per bucket of the range.
pub(crate) async fn table(ctx: &Ctx, scope: &Scope<'_>, interval: Interval) -> Result<Table, StoreError> {
    let range = scope.range;
    let (buckets, counts): (Vec<u32>, HashMap<u32, (u64, u64)>) = match interval {
        Interval::Day => {
            let split = exec::split_for(ctx, scope, &[&sql::DAYS]).await?;
            let rows: Vec<DayRow> = exec::fetch(ctx, &sql::DAYS, scope, split).await?;
            let counts = rows
                .into_iter()
                .map(|row| (day_start(range.tz, time::date_from_day_number(row.day)), (row.views, row.visitors)))
                .collect();
            (range.dates().map(|date| day_start(range.tz, date)).collect(), counts)
        }
        Interval::Hour => {
            let split = exec::split_for(ctx, scope, &[&sql::HOURS]).await?;
            let rows: Vec<HourRow> = exec::fetch(ctx, &sql::HOURS, scope, split).await?;
            let counts = rows.into_iter().map(|row| (row.hour, (row.views, row.visitors))).collect();
            (range.hour_starts(), counts)
        }
    };
    let mut table = Table::new(COLUMNS);
    for start in buckets {
        let (views, visitors) = counts.get(&start).copied().unwrap_or_default();
        table.push(vec![time::rfc3339(range.tz, i64::from(start)).into(), views.into(), visitors.into()]);
    }
    Ok(table)
}
