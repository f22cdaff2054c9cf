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
use super::compare::{previous, Against};
use super::exec::{self, Ctx, Scope};
use super::params::Interval;
use super::render::Header;
use super::sql;
use super::time::{self, day_start, Range};
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
    /// With `compare`: the comparison range's bucket of the same date (`previous`: the
    /// same position; `year`: a year earlier) and, by hour, the same wall-clock hour;
    /// `null` where that hour does not exist on that day (a DST change); absent without
    /// `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable)]
    pub previous: Option<Option<TimeseriesPrevious>>,
}

previous! {
    /// A bucket's counterpart in the comparison range.
    TimeseriesPrevious {
        /// Its start (RFC 3339, in the answer's time zone), also when suppressed.
        #[schema(format = DateTime)]
        start: String,
        /// Pageviews.
        views: u64,
        /// Visitors.
        visitors: u64,
    }
}

impl super::compare::Compared for TimeseriesRow {
    type Previous = TimeseriesPrevious;
}

/// Every bucket of `scope`'s range (its start, UTC seconds) with its views and visitors.
async fn buckets(ctx: &Ctx, scope: &Scope<'_>, interval: Interval) -> Result<Vec<(u32, u64, u64)>, StoreError> {
    let range = scope.range;
    let (buckets, counts): (Vec<u32>, HashMap<u32, (u64, u64)>) = match interval {
        Interval::Day => {
            let split = exec::split_for(ctx, scope, &[&sql::DAYS]).await?;
            let rows: Vec<DayRow> = exec::fetch(ctx, &sql::DAYS, scope, split).await?;
            let counts = rows
                .into_iter()
                .map(|row| (day_start(range.tz, time::date_from_day_number(row.day)), (row.views, row.visitors)))
                .collect();
            (starts(&range, interval), counts)
        }
        Interval::Hour => {
            let split = exec::split_for(ctx, scope, &[&sql::HOURS]).await?;
            let rows: Vec<HourRow> = exec::fetch(ctx, &sql::HOURS, scope, split).await?;
            let counts = rows.into_iter().map(|row| (row.hour, (row.views, row.visitors))).collect();
            (starts(&range, interval), counts)
        }
    };
    Ok(buckets
        .into_iter()
        .map(|start| {
            let (views, visitors) = counts.get(&start).copied().unwrap_or_default();
            (start, views, visitors)
        })
        .collect())
}

/// The starts of `range`'s buckets (UTC seconds), in order.
fn starts(range: &Range, interval: Interval) -> Vec<u32> {
    match interval {
        Interval::Day => range.dates().map(|date| day_start(range.tz, date)).collect(),
        Interval::Hour => range.hour_starts(),
    }
}

/// One row per bucket of the range; with `against`, each with its comparison bucket.
pub(crate) async fn rows(
    ctx: &Ctx,
    scope: &Scope<'_>,
    interval: Interval,
    against: Option<&Against<'_>>,
) -> Result<Vec<TimeseriesRow>, StoreError> {
    let (now, then) = tokio::try_join!(
        buckets(ctx, scope, interval),
        Against::read(against, |scope| async move { buckets(ctx, &scope, interval).await }),
    )?;
    let tz = scope.range.tz;
    // Each bucket's counterpart among the comparison range's buckets (their starts).
    let pairs = against.map(|against| {
        let current: Vec<u32> = now.iter().map(|&(start, ..)| start).collect();
        let previous = starts(&against.comparison.range, interval);
        (against.comparison.pairs(interval, &current, &previous), previous, against)
    });
    let rows = now
        .into_iter()
        .enumerate()
        .map(|(at, (start, views, visitors))| {
            let previous = pairs.as_ref().map(|(pairs, starts, against)| {
                pairs[at].map(|other| {
                    let counted = Against::unguarded(Some(*against), then.as_ref(), |then: &Vec<(u32, u64, u64)>| {
                        let (_, views, visitors) = then[other];
                        TimeseriesPrevious { views: Some(views), visitors: Some(visitors), ..Default::default() }
                    });
                    let start = Some(time::rfc3339(tz, i64::from(starts[other])));
                    TimeseriesPrevious { start, ..counted.expect("against is given") }
                })
            });
            TimeseriesRow { start: time::rfc3339(tz, i64::from(start)), views, visitors, previous }
        })
        .collect();
    Ok(rows)
}
