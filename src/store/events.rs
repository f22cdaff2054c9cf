//! The `events` row and its batch insert.

use std::borrow::Cow;

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// One stored event, field for field the `events` table (see `schema/0002_events.sql`,
/// `0005_events_event_id.sql`, `0006_pageview.sql` and `0015_events_scroll.sql` for what
/// each column means). Built
/// by the privacy stage, so it holds nothing that identifies a person.
///
/// The columns that only ever hold one of a few fixed names (source class, screen,
/// browser, OS, device, country) are `Cow<'static, str>`: the privacy stage borrows the
/// static name, so an event costs no allocation for them (rows read back from the spool
/// own theirs).
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
    pub source_class: Cow<'static, str>,
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
    pub screen: Cow<'static, str>,
    pub browser: Cow<'static, str>,
    pub os: Cow<'static, str>,
    pub device: Cow<'static, str>,
    pub country: Cow<'static, str>,
    pub prop_keys: Vec<String>,
    pub prop_values: Vec<String>,
    /// Unique id of the event, given by the pipeline when it forms a batch (0 until then).
    pub event_id: u64,
    /// Added by `schema/0006_pageview.sql`, after `event_id`.
    pub pageview: u64,
    /// Added by `schema/0015_events_scroll.sql`, so it is the table's last column. Rows
    /// spooled before it read 0.
    #[serde(default)]
    pub scroll: u8,
}

impl EventRow {
    /// Approximate bytes this row holds in memory, for batching by size.
    pub fn approx_size(&self) -> usize {
        let strings: [&str; 17] = [
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

/// Which event ids between `?` and `?` are stored, among rows with `ts` between `?`
/// and `?` (the time bounds, also as dates, let ClickHouse skip other partitions and use
/// the `(site, toDate(ts), ...)` key: 18.16 does not derive the date bound from `ts`).
pub(super) const STORED_EVENT_IDS: &str = "SELECT event_id FROM events WHERE event_id BETWEEN ? AND ? \
     AND ts BETWEEN toDateTime(?) AND toDateTime(?) AND toDate(ts) BETWEEN toDate(toDateTime(?)) AND toDate(toDateTime(?))";

/// `YYYYMM` of a UTC timestamp: the `events` partition a row lands in.
pub fn partition_month(ts: u32) -> u32 {
    use chrono::Datelike;
    let date = chrono::DateTime::from_timestamp(i64::from(ts), 0).unwrap_or_default();
    date.year() as u32 * 100 + date.month()
}

impl Store {
    /// The ids among `rows`' event ids that `events` already holds.
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn stored_event_ids(&self, rows: &[EventRow]) -> Result<std::collections::HashSet<u64>, StoreError> {
        let (Some(first_id), Some(last_id)) =
            (rows.iter().map(|r| r.event_id).min(), rows.iter().map(|r| r.event_id).max())
        else {
            return Ok(Default::default());
        };
        let first_ts = rows.iter().map(|r| r.ts).min().unwrap_or_default();
        let last_ts = rows.iter().map(|r| r.ts).max().unwrap_or_default();
        let ids: Vec<u64> = self
            .client
            .query(STORED_EVENT_IDS)
            .bind(first_id)
            .bind(last_id)
            .bind(first_ts)
            .bind(last_ts)
            .bind(first_ts)
            .bind(last_ts)
            .fetch_all()
            .await?;
        Ok(ids.into_iter().collect())
    }

    /// Writes a batch of events in one INSERT. Succeeds only when ClickHouse has
    /// acknowledged every row. On error the caller still owns `rows`; which rows landed anyway (a
    /// lost acknowledgement) is what [`Store::stored_event_ids`] tells.
    ///
    /// # Errors
    /// Network failures, timeouts, and ClickHouse rejecting the data.
    pub async fn insert_events(&self, rows: &[EventRow]) -> Result<(), StoreError> {
        let mut insert = self
            .client
            .insert::<EventRow>("events")
            .await?
            .with_timeouts(Some(self.request_timeout), Some(self.request_timeout));
        for row in rows {
            insert.write(row).await?;
        }
        insert.end().await.map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_month_is_utc_yyyymm() {
        // 2026-11-30T23:59:59Z and 2026-12-01T00:00:00Z
        assert_eq!(partition_month(1_796_083_199), 202611);
        assert_eq!(partition_month(1_796_083_200), 202612);
    }
}
