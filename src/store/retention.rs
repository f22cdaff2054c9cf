//! Retention and visitors' deletions on every table that holds a visitor, session or
//! page-view hash ([`VISITOR_TABLES`], the one list of them; a test compares it with
//! the hash columns the server reports). Aggregates (counts per day, page or quarter
//! hour, no hashes) are not touched.
//!
//! Retention: whole month partitions older than the cutoff are dropped at once (`DROP
//! PARTITION`, immediate on every version); rows of the month the cutoff falls in are
//! deleted with a mutation (`ALTER ... DELETE`, which ClickHouse applies in the
//! background). On servers that support table TTL (19.6 and later), `apply_retention_ttl`
//! also sets a TTL on each table, so ClickHouse removes expired rows itself during merges.
//!
//! Forget: one `ALTER ... DELETE` per table for the visitor hashes of one site.

use super::{render_statement, Store, StoreError, Topology};
use crate::store::partition_month;

/// Every table that holds a visitor, session or page-view hash (all partitioned by
/// `toYYYYMM(ts)`): `events`, and `page_views`, the per-pageview copy content discovery
/// reads (schema 0007). Forget and retention reach each of them.
pub const VISITOR_TABLES: &[&str] = &["events", "page_views"];

/// Month partitions (`YYYYMM`) of table `{table}` that hold rows before `?` (seconds since
/// the epoch; the start of the cutoff's month). Asked of the data, not `system.parts`, so
/// that on a cluster it covers every shard; the condition on the partition key makes
/// ClickHouse read only those partitions, which the pass then drops.
pub(super) const OLD_MONTHS: &str =
    "SELECT DISTINCT toYYYYMM(ts) AS month FROM {database}.{table} WHERE ts < toDateTime(?) ORDER BY month";
/// Drops month `?` of `{table}` (template: placeholders filled by `render_statement`).
pub(super) const DROP_MONTH: &str = "ALTER TABLE {database}.{table} {on_cluster} DROP PARTITION ?";
/// Rows of `{table}` older than `?` (seconds since the epoch) in the month partition `?`.
pub(super) const COUNT_OLDER: &str =
    "SELECT count() FROM {database}.{table} WHERE toYYYYMM(ts) = ? AND ts < toDateTime(?)";
/// Deletes rows of `{table}` older than `?` (template).
pub(super) const DELETE_OLDER: &str = "ALTER TABLE {database}.{table} {on_cluster} DELETE WHERE ts < toDateTime(?)";
/// Sets the TTL of `{table}` on servers that have TTL (template; `?` is the number of days).
pub(super) const SET_TTL: &str = "ALTER TABLE {database}.{table} {on_cluster} MODIFY TTL ts + toIntervalDay(?)";
/// Deletes every row of the given visitor hashes on one site from `{table}` (template).
pub(super) const DELETE_VISITORS: &str =
    "ALTER TABLE {database}.{table} {on_cluster} DELETE WHERE site = ? AND has(?, visitor)";
/// The server's version, e.g. `18.16.1`.
pub(super) const SERVER_VERSION: &str = "SELECT version()";

/// `template` for one of [`VISITOR_TABLES`].
pub(super) fn for_table(template: &str, table: &str) -> String {
    template.replace("{table}", table)
}

/// Seconds since the epoch at the start of month `YYYYMM` (UTC).
fn month_start(month: u32) -> u32 {
    chrono::NaiveDate::from_ymd_opt((month / 100) as i32, month % 100, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(0, |start| start.and_utc().timestamp() as u32)
}

/// What one retention pass removed from one table.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RetentionPass {
    /// The table.
    pub table: &'static str,
    /// Month partitions dropped whole.
    pub dropped_months: Vec<u32>,
    /// True when a deletion of the older rows of the cutoff's month was started.
    pub deleted_partial_month: bool,
}

impl Store {
    /// Removes rows with `ts` before `cutoff` (seconds since the epoch) from every table
    /// of [`VISITOR_TABLES`]; one pass per table, in that order.
    ///
    /// # Errors
    /// ClickHouse being unreachable or refusing a statement.
    pub async fn apply_retention(&self, cutoff: u32) -> Result<Vec<RetentionPass>, StoreError> {
        let mut passes = Vec::with_capacity(VISITOR_TABLES.len());
        for table in VISITOR_TABLES {
            passes.push(self.apply_retention_to(table, cutoff).await?);
        }
        Ok(passes)
    }

    async fn apply_retention_to(&self, table: &'static str, cutoff: u32) -> Result<RetentionPass, StoreError> {
        let cutoff_month = partition_month(cutoff);
        let months: Vec<u32> = self
            .client
            .query(&render_statement(&for_table(OLD_MONTHS, table), &self.database, &Topology::Single))
            .bind(month_start(cutoff_month))
            .fetch_all()
            .await?;
        let mut pass = RetentionPass { table, ..RetentionPass::default() };
        let drop_month = render_statement(&for_table(DROP_MONTH, table), &self.database, &self.topology);
        for month in months {
            self.server.query(&drop_month).bind(month).execute().await?;
            pass.dropped_months.push(month);
        }
        let count_older = render_statement(&for_table(COUNT_OLDER, table), &self.database, &Topology::Single);
        let older: u64 = self.client.query(&count_older).bind(cutoff_month).bind(cutoff).fetch_one().await?;
        if older > 0 {
            let delete = render_statement(&for_table(DELETE_OLDER, table), &self.database, &self.topology);
            self.server.query(&delete).bind(cutoff).execute().await?;
            pass.deleted_partial_month = true;
        }
        Ok(pass)
    }

    /// Sets a TTL of `days` on every table of [`VISITOR_TABLES`] when the server supports
    /// table TTL (19.6 and later). Returns whether it did.
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
        for table in VISITOR_TABLES {
            let ttl = render_statement(&for_table(SET_TTL, table), &self.database, &self.topology);
            self.server.query(&ttl).bind(days).execute().await?;
        }
        Ok(true)
    }

    /// Starts deleting every row of `visitors` on `site` from every table of
    /// [`VISITOR_TABLES`] (mutations ClickHouse applies in the background).
    ///
    /// # Errors
    /// ClickHouse being unreachable or refusing a statement.
    pub async fn delete_visitors(&self, site: &str, visitors: &[u64]) -> Result<(), StoreError> {
        for table in VISITOR_TABLES {
            let delete = render_statement(&for_table(DELETE_VISITORS, table), &self.database, &self.topology);
            self.server.query(&delete).bind(site).bind(visitors).execute().await?;
        }
        Ok(())
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
