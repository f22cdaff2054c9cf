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

/// Month partitions (`YYYYMM`) of `events` that hold data.
pub(super) const EVENT_MONTHS: &str = "SELECT DISTINCT toUInt32(partition) AS month FROM system.parts \
     WHERE database = ? AND table = 'events' AND active ORDER BY month";
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
        let months: Vec<u32> = self.server.query(EVENT_MONTHS).bind(&self.database).fetch_all().await?;
        let mut pass = RetentionPass::default();
        let drop_month = render_statement(DROP_EVENT_MONTH, &self.database, &self.topology);
        for month in months.into_iter().filter(|month| *month < cutoff_month) {
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
