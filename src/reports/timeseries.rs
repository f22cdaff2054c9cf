//! `timeseries`: pageviews and visitors per local day (`interval=day`, the default) or
//! per local hour (`interval=hour`), every bucket of the range listed, zeros included.
//! A day has 23 or 25 hours at a DST change; a repeated hour is listed twice, with its
//! UTC offset telling them apart. Reads `day_totals` / `hour_totals` summaries and events
//! for the days they do not cover.

use std::collections::HashMap;

use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::busiest::HourRow;
use super::exec::{self, Ctx, Scope};
use super::params::Interval;
use super::render::Header;
use super::sql;
use super::time::{self, day_start};
use crate::store::StoreError;

#[derive(Debug, Row, Deserialize)]
pub(crate) struct DayRow {
    day: u16,
    views: u64,
    visitors: u64,
}

/// The answer of `timeseries`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Timeseries {
    #[serde(flatten)]
    pub header: Header,
    /// The buckets: local days or local hours.
    pub interval: Interval,
    /// Every bucket of the range, in order, zeros included.
    pub rows: Vec<TimeseriesRow>,
}

/// One bucket of `timeseries` (also its CSV line).
#[derive(Debug, Default, Serialize, ToSchema)]
pub(crate) struct TimeseriesRow {
    /// Start of the bucket (RFC 3339, in the answer's time zone).
    #[schema(format = DateTime)]
    pub start: String,
    /// Pageviews.
    pub views: u64,
    /// Visitors (per hour, or per day: visitor-days).
    pub visitors: u64,
}

/// One row per bucket of the range.
pub(crate) async fn rows(ctx: &Ctx, scope: &Scope<'_>, interval: Interval) -> Result<Vec<TimeseriesRow>, StoreError> {
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
    let rows = buckets
        .into_iter()
        .map(|start| {
            let (views, visitors) = counts.get(&start).copied().unwrap_or_default();
            TimeseriesRow { start: time::rfc3339(range.tz, i64::from(start)), views, visitors }
        })
        .collect();
    Ok(rows)
}
