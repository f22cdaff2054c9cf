//! Retention: removing raw events older than `retention_days`, and visitor-rights
//! deletions. Rollup tables (aggregates without visitor hashes) are not touched.
//!
//! Whole month partitions older than the cutoff are dropped at once (`DROP PARTITION`,
//! immediate on every version); rows of the month the cutoff falls in are deleted with a
//! mutation (`ALTER ... DELETE`, which ClickHouse applies in the background). On servers
//! that support table TTL (19.6 and later), `apply_retention_ttl` also sets a TTL, so
//! ClickHouse removes expired rows itself during merges.

use super::{render_statement, Store, StoreError};
use crate::store::partition_month;

/// Month partitions (`YYYYMM`) that hold events before `?` (seconds since the epoch; the
/// start of the cutoff's month). Asked of the data, not `system.parts`, so that on a
/// cluster it covers every shard; the condition on the partition key makes ClickHouse
/// read only those partitions, which the pass then drops.
pub(super) const EVENT_MONTHS: &str =
    "SELECT DISTINCT toYYYYMM(ts) AS month FROM events WHERE ts < toDateTime(?) ORDER BY month";
/// Drops month `?` of `events` (template: placeholders filled by `render_statement`).
pub(super) const DROP_EVENT_MONTH: &str = "ALTER TABLE {database}.events {on_cluster} DROP PARTITION ?";
/// Rows older than `?` (seconds since the epoch) in the month partition `?`.
pub(super) const COUNT_OLDER: &str = "SELECT count() FROM events WHERE toYYYYMM(ts) = ? AND ts < toDateTime(?)";
/// Deletes rows older than `?` (template).
pub(super) const DELETE_OLDER: &str = "ALTER TABLE {database}.events {on_cluster} DELETE WHERE ts < toDateTime(?)";
/// Sets the table TTL on servers that have TTL (template; `?` is the number of days).
pub(super) const SET_TTL: &str = "ALTER TABLE {database}.events {on_cluster} MODIFY TTL ts + toIntervalDay(?)";
/// Deletes every event of the given visitor hashes on one site (template).
pub(super) const DELETE_VISITORS: &str =
    "ALTER TABLE {database}.events {on_cluster} DELETE WHERE site = ? AND has(?, visitor)";
/// The server's version, e.g. `18.16.1`.
pub(super) const SERVER_VERSION: &str = "SELECT version()";

/// Seconds since the epoch at the start of month `YYYYMM` (UTC).
fn month_start(month: u32) -> u32 {
    chrono::NaiveDate::from_ymd_opt((month / 100) as i32, month % 100, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(0, |start| start.and_utc().timestamp() as u32)
}

/// What one retention pass removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RetentionPass {
    /// Month partitions dropped whole.
    pub dropped_months: Vec<u32>,
    /// True when a deletion of the older rows of the cutoff's month was started.
    pub deleted_partial_month: bool,
}

impl Store {
    /// Removes events with `ts` before `cutoff` (seconds since the epoch).
    ///
    /// # Errors
    /// ClickHouse being unreachable or refusing a statement.
    pub async fn apply_retention(&self, cutoff: u32) -> Result<RetentionPass, StoreError> {
        let cutoff_month = partition_month(cutoff);
        let months: Vec<u32> = self.client.query(EVENT_MONTHS).bind(month_start(cutoff_month)).fetch_all().await?;
        let mut pass = RetentionPass::default();
        let drop_month = render_statement(DROP_EVENT_MONTH, &self.database, &self.topology);
        for month in months {
            self.server.query(&drop_month).bind(month).execute().await?;
            pass.dropped_months.push(month);
        }
        let older: u64 = self.client.query(COUNT_OLDER).bind(cutoff_month).bind(cutoff).fetch_one().await?;
        if older > 0 {
            let delete = render_statement(DELETE_OLDER, &self.database, &self.topology);
            self.server.query(&delete).bind(cutoff).execute().await?;
            pass.deleted_partial_month = true;
        }
        Ok(pass)
    }

    /// Sets a TTL of `days` on `events` when the server supports table TTL (19.6 and
    /// later). Returns whether it did.
    ///
    /// # Errors
    /// ClickHouse being unreachable or refusing the statement.
    pub async fn apply_retention_ttl(&self, days: u32) -> Result<bool, StoreError> {
        let version: String = self.server.query(SERVER_VERSION).fetch_one().await?;
        let mut parts = version.split('.').map(|part| part.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        if (major, minor) < (19, 6) {
            return Ok(false);
        }
        let ttl = render_statement(SET_TTL, &self.database, &self.topology);
        self.server.query(&ttl).bind(days).execute().await?;
        Ok(true)
    }

    /// Starts deleting every event of `visitors` on `site` (a mutation ClickHouse applies
    /// in the background).
    ///
    /// # Errors
    /// ClickHouse being unreachable or refusing the statement.
    pub async fn delete_visitors(&self, site: &str, visitors: &[u64]) -> Result<(), StoreError> {
        let delete = render_statement(DELETE_VISITORS, &self.database, &self.topology);
        self.server.query(&delete).bind(site).bind(visitors).execute().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_start_is_the_first_second_of_the_month() {
        // 2026-12-01T00:00:00Z
        assert_eq!(month_start(202612), 1_796_083_200);
        assert_eq!(partition_month(month_start(202612)), 202612);
        assert_eq!(partition_month(month_start(202612) - 1), 202611);
    }
}
