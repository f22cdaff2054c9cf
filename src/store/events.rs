//! The `events` row and its batch insert.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// One stored event, field for field the `events` table (see `schema/0002_events.sql` and
/// `schema/0005_pageview.sql` for what each column means). Built by the privacy stage, so
/// it holds nothing that identifies a person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Row, Serialize, Deserialize)]
pub struct EventRow {
    pub site: String,
    /// Seconds since the epoch, UTC.
    pub ts: u32,
    pub name: String,
    pub hostname: String,
    pub path: String,
    pub referrer_host: String,
    pub referrer_path: String,
    pub source_class: String,
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: String,
    pub utm_term: String,
    pub utm_content: String,
    pub visitor: u64,
    pub session: u64,
    pub entry: u8,
    pub returning: u8,
    /// Seconds since the epoch, UTC.
    pub published: Option<u32>,
    pub engaged_ms: u32,
    pub screen: String,
    pub browser: String,
    pub os: String,
    pub device: String,
    pub country: String,
    pub prop_keys: Vec<String>,
    pub prop_values: Vec<String>,
    /// Added by `schema/0005_pageview.sql`, so it is the table's last column.
    pub pageview: u64,
}

impl EventRow {
    /// Approximate bytes this row holds in memory, for batching by size.
    pub fn approx_size(&self) -> usize {
        let strings = [
            &self.site,
            &self.name,
            &self.hostname,
            &self.path,
            &self.referrer_host,
            &self.referrer_path,
            &self.source_class,
            &self.utm_source,
            &self.utm_medium,
            &self.utm_campaign,
            &self.utm_term,
            &self.utm_content,
            &self.screen,
            &self.browser,
            &self.os,
            &self.device,
            &self.country,
        ];
        let props: usize = self.prop_keys.iter().chain(&self.prop_values).map(String::len).sum();
        std::mem::size_of::<Self>() + strings.iter().map(|s| s.len()).sum::<usize>() + props
    }
}

impl Store {
    /// Writes a batch of events in one INSERT. Succeeds only when ClickHouse has
    /// acknowledged every row; on error nothing can be assumed stored, and the caller
    /// still owns `rows` to retry.
    ///
    /// # Errors
    /// Network failures, timeouts, and ClickHouse rejecting the data.
    pub async fn insert_events(&self, rows: &[EventRow]) -> Result<(), StoreError> {
        let mut insert = self.client.insert::<EventRow>("events").await?;
        for row in rows {
            insert.write(row).await?;
        }
        insert.end().await
    }
}
