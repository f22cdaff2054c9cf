//! The in-memory directory of registered sites that intake checks events against.
//!
//! Handlers only read it; a background task replaces its contents with a fresh list from
//! ClickHouse every `ingest.sites_refresh_secs`, so intake never waits on ClickHouse and a
//! site added on any node is served by all of them within that interval.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use crate::privacy::urls::host_belongs_to;
use crate::store::{Site, NULL_ORIGIN};

/// What intake needs to know about one site.
#[derive(Debug)]
pub struct SiteEntry {
    pub domain: String,
    /// Hosts of the site's extra allowed origins.
    pub origin_hosts: Vec<String>,
    /// Consent mode: only events that say the visitor consented are taken.
    pub requires_consent: bool,
    /// `DNT: 1` does not stop counting.
    pub ignore_dnt: bool,
    /// The site's own patterns for identifiers in its page paths (`sites add --redact`).
    pub redact: Vec<regex::Regex>,
}

impl SiteEntry {
    /// True when `host` is the site's domain, a subdomain of it, or an allowed origin's host.
    pub fn allows_host(&self, host: &str) -> bool {
        host_belongs_to(host, &self.domain) || self.origin_hosts.iter().any(|allowed| allowed == host)
    }
}

/// What one refresh loaded, replaced whole on the next.
#[derive(Debug, Default)]
struct Snapshot {
    by_domain: HashMap<String, Arc<SiteEntry>>,
    /// Hosts of every site's extra allowed origins.
    extra_origin_hosts: HashSet<String>,
}

/// Shared, cheaply readable map from domain to site.
#[derive(Debug, Clone, Default)]
pub struct SiteDirectory {
    sites: Arc<RwLock<Arc<Snapshot>>>,
}

impl SiteDirectory {
    /// Replaces the directory's contents.
    pub fn replace(&self, sites: &[Site]) {
        let by_domain: HashMap<String, Arc<SiteEntry>> = sites
            .iter()
            .map(|site| {
                let origin_hosts = site
                    .origins
                    .iter()
                    .filter_map(|origin| match origin.as_str() {
                        NULL_ORIGIN => Some(NULL_ORIGIN.to_string()),
                        origin => url::Url::parse(origin).ok()?.host_str().map(str::to_string),
                    })
                    .collect();
                let redact = site
                    .redact
                    .iter()
                    .filter_map(|pattern| match regex::Regex::new(pattern) {
                        Ok(compiled) => Some(compiled),
                        Err(error) => {
                            // `sites add` checks every pattern; only a hand-edited row gets here.
                            tracing::warn!(site = %site.domain, %error, "skipping a redact pattern that does not compile");
                            None
                        }
                    })
                    .collect();
                let entry = SiteEntry {
                    domain: site.domain.clone(),
                    origin_hosts,
                    requires_consent: site.consent,
                    ignore_dnt: site.ignore_dnt,
                    redact,
                };
                (site.domain.clone(), Arc::new(entry))
            })
            .collect();
        let extra_origin_hosts = by_domain.values().flat_map(|site| site.origin_hosts.iter().cloned()).collect();
        *self.sites.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Snapshot { by_domain, extra_origin_hosts });
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.sites.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// True when some registered site accepts events from pages on `host`: it is a site's
    /// domain or a subdomain of one, or the host of a site's allowed origin. CORS answers
    /// preflights only for such origins.
    pub fn any_site_allows_host(&self, host: &str) -> bool {
        let snapshot = self.snapshot();
        if snapshot.extra_origin_hosts.contains(host) {
            return true;
        }
        let mut suffix = host;
        loop {
            if snapshot.by_domain.contains_key(suffix) {
                return true;
            }
            match suffix.split_once('.') {
                Some((_, rest)) if !rest.is_empty() => suffix = rest,
                _ => return false,
            }
        }
    }

    /// The site registered under `domain` (compared case-insensitively).
    pub fn get(&self, domain: &str) -> Option<Arc<SiteEntry>> {
        let sites = self.snapshot();
        match sites.by_domain.get(domain) {
            Some(entry) => Some(Arc::clone(entry)),
            None if domain.bytes().any(|b| b.is_ascii_uppercase()) => {
                sites.by_domain.get(&domain.to_ascii_lowercase()).cloned()
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_sites_subdomains_and_extra_origins_are_allowed() {
        let directory = SiteDirectory::default();
        directory.replace(&[
            Site::new("example.com", "UTC", &["https://partner.example.net".into()]).unwrap(),
            Site::new("shop.example.org", "UTC", &[]).unwrap(),
        ]);
        for host in ["example.com", "blog.example.com", "partner.example.net", "shop.example.org", "a.shop.example.org"]
        {
            assert!(directory.any_site_allows_host(host), "{host}");
        }
        for host in ["example.org", "evil.com", "example.com.evil.com", "example.net", "com", ""] {
            assert!(!directory.any_site_allows_host(host), "{host}");
        }
    }
}
