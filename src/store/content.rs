//! The `content` table: the content registry, each site's registered pages with their
//! publish times and titles (`schema/0016_content.sql`). `content` parses and checks the
//! sources and hands the pages here as [`Page`]s; content-discovery reads a site's pages
//! of a time range with [`Store::registered_pages`].
//!
//! Every registration inserts one row per page; reads take per path the earliest publish
//! time and the newest non-empty title, so importing the same pages again changes no
//! answer, and an earlier publish time wins over a later one whichever came first.

use std::collections::HashMap;

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::content::Page;

/// Each registered path of site `?` with its publish time (the earliest).
pub(super) const PUBLISH_TIMES: &str =
    "SELECT path, toUInt32(min(published)) AS published FROM content WHERE site = ? GROUP BY path ORDER BY path";

/// The registered pages of site `?` whose publish time (the earliest) is in `[?, ?)` (UTC
/// seconds), newest first, with their newest non-empty title.
pub(super) const PAGES_PUBLISHED_IN: &str = "SELECT path, published, title FROM ( \
       SELECT path, toUInt32(min(published)) AS published, argMaxIf(title, registered, title != '') AS title \
       FROM content WHERE site = ? GROUP BY path \
     ) WHERE published >= ? AND published < ? ORDER BY published DESC, path";

/// One row of `content` as written.
#[derive(Row, Serialize)]
struct ContentRow<'a> {
    site: &'a str,
    path: &'a str,
    published: u32,
    title: &'a str,
    registered: u64,
}

/// A path and its publish time, as [`PUBLISH_TIMES`] returns them.
#[derive(Debug, Row, Deserialize)]
pub(super) struct PublishTime {
    path: String,
    published: u32,
}

/// A registered page as the registry answers it.
#[derive(Debug, Clone, PartialEq, Eq, Row, Deserialize)]
pub struct RegisteredPage {
    /// The stored path (as `events.path` holds it).
    pub path: String,
    /// The earliest publish time registered, seconds since the epoch (UTC).
    pub published: u32,
    /// The newest non-empty title registered; empty when none was.
    pub title: String,
}

impl Store {
    /// Registers `pages` of `site` in one INSERT: all of them, or (when it fails) none.
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn register_pages(&self, site: &str, pages: &[Page]) -> Result<(), StoreError> {
        let registered = chrono::Utc::now().timestamp_micros() as u64;
        let mut insert = self.client.insert::<ContentRow<'_>>("content").await?;
        for page in pages {
            let row =
                ContentRow { site, path: page.path(), published: page.published(), title: page.title(), registered };
            insert.write(&row).await?;
        }
        insert.end().await.map_err(StoreError::from)
    }

    /// Every registered path of `site` with its publish time (the earliest registered).
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn publish_times(&self, site: &str) -> Result<HashMap<String, u32>, StoreError> {
        let rows = self.client.query(PUBLISH_TIMES).bind(site).fetch_all::<PublishTime>().await?;
        Ok(rows.into_iter().map(|row| (row.path, row.published)).collect())
    }

    /// The registered pages of `site` whose publish time is in `from..until` (seconds since
    /// the epoch, UTC), newest first (then by path).
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn registered_pages(&self, site: &str, from: u32, until: u32) -> Result<Vec<RegisteredPage>, StoreError> {
        let query = self.client.query(PAGES_PUBLISHED_IN).bind(site).bind(from).bind(until);
        query.fetch_all().await.map_err(StoreError::from)
    }
}
