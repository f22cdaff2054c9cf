//! The registry of sites: one in-memory copy of the registered sites that intake, the
//! reports, the dashboard and CORS read without waiting on ClickHouse.
//!
//! Reads are lock-free (`arc-swap`): a reload builds a new [`Snapshot`] and swaps it in
//! whole. Sites come from a [`SiteSource`] (the store); `jobs` reloads them every
//! `ingest.sites_refresh_secs`, so a site added on any node is served by all nodes within
//! that interval. A site added a moment ago is found sooner: [`SiteRegistry::find`],
//! asked for a domain the copy does not hold, reloads when the last reload is at least
//! [`RELOAD_ON_MISS_AFTER`] old (one at a time; the others wait for it), so `footfall sites
//! add` followed by an event works; within that time it answers from the copy at once,
//! so events for unregistered sites never hold a connection. The copy, never more than
//! that old when a miss asks, is the negative cache: a flood of events for unregistered
//! sites costs at most one reload of the small `sites` table per interval.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono_tz::Tz;
use futures_util::future::BoxFuture;

use super::{Domain, Site, NULL_ORIGIN};
use crate::privacy::urls::host_belongs_to;
use crate::reloads::{LoadError, Reloads};

/// Least time between two reloads caused by requests for unknown sites (a reload reads
/// the small `sites` table: a few milliseconds).
const RELOAD_ON_MISS_AFTER: Duration = Duration::from_millis(100);

/// Where the registry reads the registered sites from (the store, in a running collector).
pub trait SiteSource: Send + Sync + 'static {
    /// Every site that is not removed.
    fn load_sites(&self) -> BoxFuture<'_, Result<Vec<Site>, LoadError>>;
}

/// What readers need to know about one site, prepared once per reload.
#[derive(Debug)]
pub struct SiteEntry {
    pub domain: Domain,
    /// The time zone of its reports.
    pub time_zone: Tz,
    /// Hosts of the site's extra allowed origins (`null` for opaque origins).
    pub origin_hosts: Vec<String>,
    /// Consent mode: only events that say the visitor consented are taken.
    pub requires_consent: bool,
    /// `DNT: 1` does not stop counting.
    pub ignore_dnt: bool,
    /// The site's own patterns for identifiers in its page paths (`sites add --redact`).
    pub redact: Vec<regex::Regex>,
}

impl SiteEntry {
    /// Prepares `site`; `None` when its time zone is not known to this build (sites are
    /// checked when added, so only a hand-edited row or an older build gets here).
    fn prepare(site: &Site) -> Option<Self> {
        let Ok(time_zone) = site.timezone.parse() else {
            tracing::warn!(site = %site.domain, timezone = site.timezone, "skipping a site whose time zone this build does not know");
            return None;
        };
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
        Some(Self {
            domain: site.domain.clone(),
            time_zone,
            origin_hosts,
            requires_consent: site.consent,
            ignore_dnt: site.ignore_dnt,
            redact,
        })
    }

    /// True when `host` is the site's domain, a subdomain of it, or an allowed origin's host.
    pub fn allows_host(&self, host: &str) -> bool {
        host_belongs_to(host, self.domain.as_str()) || self.origin_hosts.iter().any(|allowed| allowed == host)
    }
}

/// What one reload found, replaced whole by the next.
#[derive(Debug, Default)]
struct Snapshot {
    by_domain: HashMap<String, Arc<SiteEntry>>,
    /// Hosts of every site's extra allowed origins.
    extra_origin_hosts: HashSet<String>,
}

impl Snapshot {
    fn of(sites: &[Site]) -> Self {
        let by_domain: HashMap<String, Arc<SiteEntry>> = sites
            .iter()
            .filter_map(|site| Some((site.domain.to_string(), Arc::new(SiteEntry::prepare(site)?))))
            .collect();
        let extra_origin_hosts = by_domain.values().flat_map(|site| site.origin_hosts.iter().cloned()).collect();
        Self { by_domain, extra_origin_hosts }
    }
}

/// The shared registry; clones share one copy.
#[derive(Clone)]
pub struct SiteRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    snapshot: ArcSwap<Snapshot>,
    source: Arc<dyn SiteSource>,
    reloads: Reloads,
}

impl std::fmt::Debug for SiteRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteRegistry").field("sites", &self.inner.snapshot.load().by_domain.len()).finish()
    }
}

impl SiteRegistry {
    /// An empty registry that reads from `source` ([`SiteRegistry::reload`] fills it).
    pub fn new(source: Arc<dyn SiteSource>) -> Self {
        Self {
            inner: Arc::new(Inner {
                snapshot: ArcSwap::default(),
                source,
                reloads: Reloads::new(RELOAD_ON_MISS_AFTER),
            }),
        }
    }

    /// Re-reads the sites from the source (after a reload in progress has ended).
    ///
    /// # Errors
    /// The source failing; the registry keeps what it had.
    pub async fn reload(&self) -> Result<(), LoadError> {
        self.inner.reloads.run(|| self.load()).await
    }

    async fn load(&self) -> Result<(), LoadError> {
        let sites = self.inner.source.load_sites().await?;
        self.inner.snapshot.store(Arc::new(Snapshot::of(&sites)));
        Ok(())
    }

    /// The site registered under `domain` (compared case-insensitively) in the copy held
    /// now; never waits.
    pub fn get(&self, domain: &str) -> Option<Arc<SiteEntry>> {
        let snapshot = self.inner.snapshot.load();
        match snapshot.by_domain.get(domain) {
            Some(entry) => Some(Arc::clone(entry)),
            None if domain.bytes().any(|b| b.is_ascii_uppercase()) => {
                snapshot.by_domain.get(&domain.to_ascii_lowercase()).cloned()
            }
            None => None,
        }
    }

    /// The site registered under `domain`, looking again when the copy held now does not
    /// have it and a reload is due (see the module docs).
    pub async fn find(&self, domain: &str) -> Option<Arc<SiteEntry>> {
        if let Some(found) = self.get(domain) {
            return Some(found);
        }
        self.inner.reloads.if_due("the sites", || self.load()).await;
        self.get(domain)
    }

    /// True when some registered site accepts events from pages on `host`: it is a site's
    /// domain or a subdomain of one, or the host of a site's allowed origin. CORS answers
    /// preflights only for such origins.
    pub fn any_site_allows_host(&self, host: &str) -> bool {
        let snapshot = self.inner.snapshot.load();
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

    /// Every registered site, by domain.
    pub fn list(&self) -> Vec<Arc<SiteEntry>> {
        let mut sites: Vec<Arc<SiteEntry>> = self.inner.snapshot.load().by_domain.values().cloned().collect();
        sites.sort_by(|a, b| a.domain.cmp(&b.domain));
        sites
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use super::*;

    /// Sites held in memory, counting how often they were read.
    struct Listed {
        sites: Mutex<Vec<Site>>,
        loads: AtomicUsize,
    }

    impl SiteSource for Listed {
        fn load_sites(&self) -> BoxFuture<'_, Result<Vec<Site>, LoadError>> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            let sites = self.sites.lock().unwrap().clone();
            Box::pin(async move { Ok(sites) })
        }
    }

    fn registry(sites: Vec<Site>) -> (SiteRegistry, Arc<Listed>) {
        let source = Arc::new(Listed { sites: Mutex::new(sites), loads: AtomicUsize::new(0) });
        (SiteRegistry::new(Arc::clone(&source) as Arc<dyn SiteSource>), source)
    }

    #[tokio::test]
    async fn origins_of_sites_subdomains_and_extra_origins_are_allowed() {
        let (registry, _) = registry(vec![
            Site::new("example.com", "UTC", &["https://partner.example.net".into()]).unwrap(),
            Site::new("shop.example.org", "UTC", &[]).unwrap(),
        ]);
        registry.reload().await.unwrap();
        for host in ["example.com", "blog.example.com", "partner.example.net", "shop.example.org", "a.shop.example.org"]
        {
            assert!(registry.any_site_allows_host(host), "{host}");
        }
        for host in ["example.org", "evil.com", "example.com.evil.com", "example.net", "com", ""] {
            assert!(!registry.any_site_allows_host(host), "{host}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_site_added_after_the_last_reload_is_found_and_unknown_ones_cost_one_reload_per_interval() {
        let (registry, source) = registry(vec![Site::new("example.com", "Europe/London", &[]).unwrap()]);
        registry.reload().await.unwrap();
        assert_eq!(registry.get("EXAMPLE.com").unwrap().time_zone, chrono_tz::Europe::London);
        source.sites.lock().unwrap().push(Site::new("new.example", "UTC", &[]).unwrap());
        assert!(registry.get("new.example").is_none());
        // Right after a reload a miss answers from the copy at once, without reloading.
        assert!(registry.find("new.example").await.is_none());
        assert_eq!(source.loads.load(Ordering::SeqCst), 1);
        tokio::time::advance(RELOAD_ON_MISS_AFTER).await;
        assert_eq!(registry.find("new.example").await.unwrap().domain, "new.example");
        assert_eq!(source.loads.load(Ordering::SeqCst), 2);
        tokio::time::advance(RELOAD_ON_MISS_AFTER).await;
        // An unknown domain costs one reload, then is answered from the copy until the next
        // reload is due.
        assert!(registry.find("nobody.example").await.is_none());
        assert_eq!(source.loads.load(Ordering::SeqCst), 3);
        for _ in 0..100 {
            assert!(registry.find("nobody.example").await.is_none());
        }
        assert_eq!(source.loads.load(Ordering::SeqCst), 3);
        tokio::time::advance(RELOAD_ON_MISS_AFTER).await;
        assert!(registry.find("nobody.example").await.is_none());
        assert_eq!(source.loads.load(Ordering::SeqCst), 4);
    }
}
