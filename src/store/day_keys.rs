//! The `day_keys` table: the per-day secret keys that visitor hashes are keyed with,
//! shared by every collector node. It lives in its own database
//! ([`super::keys_database`]), apart from the events, so that readers of events cannot
//! read it (schema 0011). The rotation policy lives in `privacy::keys`; this
//! file only reads, inserts and deletes rows.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use super::{render_statement, Store, StoreError};

/// One candidate key for a day. Several candidates can exist when nodes raced; every
/// node uses the smallest.
#[derive(Debug, Clone, PartialEq, Eq, Row, Serialize, Deserialize)]
pub struct DayKeyRow {
    /// Days since 1970-01-01 (ClickHouse `Date`).
    pub day: u16,
    pub key: [u8; 32],
    /// Seconds since the epoch.
    pub created_at: u32,
}

/// Candidates for the days `? ..= ?` (day numbers).
pub(super) const SELECT_DAY_KEYS: &str = "SELECT day, key, toUInt32(created_at) AS created_at FROM day_keys \
     WHERE toUInt16(day) BETWEEN ? AND ? ORDER BY day, key";
/// Days (as `YYYY-MM-DD`) before day number `?` that still have keys.
pub(super) const DAYS_BEFORE: &str = "SELECT DISTINCT toString(day) FROM day_keys WHERE toUInt16(day) < ?";
/// Deletes every key of day `?` (`'YYYY-MM-DD'`, the partition's value; both server versions
/// take that literal) at once. A schema-style template: placeholders filled by
/// `render_statement`; `day_keys` has one partition per day.
pub(super) const DROP_DAY: &str = "ALTER TABLE {keys_database}.day_keys {on_cluster} DROP PARTITION ?";

impl Store {
    /// Every candidate key for the days `first..=last`.
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn day_keys(&self, first: u16, last: u16) -> Result<Vec<DayKeyRow>, StoreError> {
        self.keys.query(SELECT_DAY_KEYS).bind(first).bind(last).fetch_all().await.map_err(StoreError::from)
    }

    /// Inserts a candidate key.
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn insert_day_key(&self, row: &DayKeyRow) -> Result<(), StoreError> {
        let mut insert = self.keys.insert::<DayKeyRow>("day_keys").await?;
        insert.write(row).await?;
        insert.end().await.map_err(StoreError::from)
    }

    /// Deletes the keys of every day before `day`, one partition per day.
    ///
    /// # Errors
    /// ClickHouse being unreachable or refusing to drop a partition.
    pub async fn delete_day_keys_before(&self, day: u16) -> Result<(), StoreError> {
        let old_days: Vec<String> = self.keys.query(DAYS_BEFORE).bind(day).fetch_all().await?;
        let drop_day = render_statement(DROP_DAY, &self.database, &self.topology);
        for old_day in old_days {
            self.server.query(&drop_day).bind(&old_day).execute().await?;
        }
        Ok(())
    }
}
