//! The `sites` table: which domains footfall accepts events for, their time zone, the
//! extra origins allowed to send for them, whether they count only visitors who
//! consented, whether they ignore `DNT`, and their own path patterns to redact. Rows are
//! versioned; the newest version wins. What a site is, and its checks, live in
//! `crate::sites`.

use clickhouse::Row;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::reloads::LoadError;
use crate::sites::{Domain, Site, SiteSource};

/// The newest version of every site that is not removed.
pub(super) const LIST_SITES: &str =
    "SELECT domain, latest_timezone AS timezone, latest_origins AS origins, latest_consent AS consent, \
            latest_ignore_dnt AS ignore_dnt, latest_redact AS redact FROM ( \
       SELECT domain, argMax(timezone, version) AS latest_timezone, \
              argMax(origins, version) AS latest_origins, \
              argMax(consent, version) AS latest_consent, \
              argMax(ignore_dnt, version) AS latest_ignore_dnt, \
              argMax(redact, version) AS latest_redact, \
              argMax(deleted, version) AS latest_deleted \
       FROM sites GROUP BY domain \
     ) WHERE latest_deleted = 0 ORDER BY domain";

#[derive(Row, Serialize, Deserialize)]
struct SiteRow {
    domain: String,
    timezone: String,
    origins: Vec<String>,
    consent: u8,
    ignore_dnt: u8,
    redact: Vec<String>,
    deleted: u8,
    version: u64,
}

impl Store {
    /// Adds a site, or replaces the definition of an existing one.
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn put_site(&self, site: &Site) -> Result<(), StoreError> {
        self.write_site_version(site, 0).await
    }

    /// Marks a site removed; its events stay. Returns whether it existed.
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn remove_site(&self, domain: &Domain) -> Result<bool, StoreError> {
        let existing = self.list_sites().await?.into_iter().find(|site| site.domain == *domain);
        match existing {
            Some(site) => self.write_site_version(&site, 1).await.map(|()| true),
            None => Ok(false),
        }
    }

    async fn write_site_version(&self, site: &Site, deleted: u8) -> Result<(), StoreError> {
        let mut insert = self.client.insert::<SiteRow>("sites").await?;
        insert
            .write(&SiteRow {
                domain: site.domain.to_string(),
                timezone: site.timezone.clone(),
                origins: site.origins.clone(),
                consent: u8::from(site.consent),
                ignore_dnt: u8::from(site.ignore_dnt),
                redact: site.redact.clone(),
                deleted,
                version: chrono::Utc::now().timestamp_micros() as u64,
            })
            .await?;
        insert.end().await.map_err(StoreError::from)
    }

    /// Every site that is not removed, by domain.
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn list_sites(&self) -> Result<Vec<Site>, StoreError> {
        let listed = self.client.query(LIST_SITES).fetch_all::<ListedSite>().await?;
        Ok(listed.into_iter().filter_map(ListedSite::into_site).collect())
    }
}

/// A site as [`LIST_SITES`] returns it, before its domain is checked.
#[derive(Debug, Row, Deserialize)]
pub(super) struct ListedSite {
    domain: String,
    timezone: String,
    origins: Vec<String>,
    consent: bool,
    ignore_dnt: bool,
    redact: Vec<String>,
}

impl ListedSite {
    /// The site; `None`, with a warning, for a domain that is not one (`sites add` checks
    /// every domain, so only a hand-written row gets here).
    fn into_site(self) -> Option<Site> {
        let domain = match Domain::parse(&self.domain) {
            Ok(domain) => domain,
            Err(error) => {
                tracing::warn!(%error, "skipping a stored site whose domain is not valid");
                return None;
            }
        };
        let Self { timezone, origins, consent, ignore_dnt, redact, .. } = self;
        Some(Site { domain, timezone, origins, consent, ignore_dnt, redact })
    }
}

impl SiteSource for Store {
    fn load_sites(&self) -> BoxFuture<'_, Result<Vec<Site>, LoadError>> {
        Box::pin(async move { self.list_sites().await.map_err(LoadError::from) })
    }
}
