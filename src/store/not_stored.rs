//! The `not_stored` table's writes: per site, UTC hour and reason, how many events intake
//! answered but did not store (`ingest::not_stored` tallies them; `jobs` writes the tally
//! here every `ingest.not_stored_write_secs`; the `not-stored` report reads the table).

use clickhouse::Row;
use serde::Serialize;

use super::{Store, StoreError};

/// One row of `not_stored` (see `schema/0014_not_stored.sql`).
#[derive(Debug, Clone, PartialEq, Eq, Row, Serialize)]
pub struct NotStoredRow {
    pub site: String,
    /// The UTC hour, seconds since the epoch.
    pub hour: u32,
    pub reason: &'static str,
    pub events: u64,
}

impl Store {
    /// Adds `rows` to the counts (rows of one key are summed).
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn add_not_stored(&self, rows: &[NotStoredRow]) -> Result<(), StoreError> {
        let mut insert = self.client.insert::<NotStoredRow>("not_stored").await?;
        for row in rows {
            insert.write(row).await?;
        }
        insert.end().await.map_err(StoreError::from)
    }
}
