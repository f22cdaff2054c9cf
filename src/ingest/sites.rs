//! The in-memory directory of registered sites that intake checks events against.
//!
//! Handlers only read it; a background task replaces its contents with a fresh list from
//! ClickHouse every `ingest.sites_refresh_secs`, so intake never waits on ClickHouse and a
//! site added on any node is served by all of them within that interval.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::privacy::urls::host_belongs_to;
use crate::store::Site;

/// What intake needs to know about one site.
#[derive(Debug)]
pub struct SiteEntry {
    pub domain: String,
    /// Hosts of the site's extra allowed origins.
    pub origin_hosts: Vec<String>,
}

impl SiteEntry {
    /// True when `host` is the site's domain, a subdomain of it, or an allowed origin's host.
    pub fn allows_host(&self, host: &str) -> bool {
        host_belongs_to(host, &self.domain) || self.origin_hosts.iter().any(|allowed| allowed == host)
    }
}

/// Domain -> site, replaced whole on each refresh.
type SiteMap = HashMap<String, Arc<SiteEntry>>;

/// Shared, cheaply readable map from domain to site.
#[derive(Debug, Clone, Default)]
pub struct SiteDirectory {
    sites: Arc<RwLock<Arc<SiteMap>>>,
}

impl SiteDirectory {
    /// Replaces the directory's contents.
    pub fn replace(&self, sites: &[Site]) {
        let map = sites
            .iter()
            .map(|site| {
                let origin_hosts = site
                    .origins
                    .iter()
                    .filter_map(|origin| url::Url::parse(origin).ok()?.host_str().map(str::to_string))
                    .collect();
                let entry = SiteEntry { domain: site.domain.clone(), origin_hosts };
                (site.domain.clone(), Arc::new(entry))
            })
            .collect();
        *self.sites.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(map);
    }

    /// The site registered under `domain` (compared case-insensitively).
    pub fn get(&self, domain: &str) -> Option<Arc<SiteEntry>> {
        let sites = Arc::clone(&self.sites.read().unwrap_or_else(|e| e.into_inner()));
        match sites.get(domain) {
            Some(entry) => Some(Arc::clone(entry)),
            None if domain.bytes().any(|b| b.is_ascii_uppercase()) => sites.get(&domain.to_ascii_lowercase()).cloned(),
            None => None,
        }
    }
}
