//! Who may read which site's reports: an in-memory copy of the registered sites (with
//! their time zones) and of the report tokens, refreshed from ClickHouse every
//! [`REFRESH_INTERVAL`] and, rate-limited, when a request names a site or token it does not
//! know yet (so a token made with `footfall tokens create` works at once, while unknown
//! tokens cannot make every request wait on ClickHouse). A request with an unknown token
//! waits for that reload rather than being told its token is wrong from a stale copy:
//! wrong tokens are counted against their client (`auth::AuthFailureLimiter`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono_tz::Tz;

use super::error::ReportError;
use crate::auth;
use crate::store::{Store, StoreError};

/// How often the background task re-reads sites and tokens (revoking a token takes
/// effect within this time).
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// Least time between two reloads triggered by unknown names.
const RELOAD_ON_MISS_AFTER: Duration = Duration::from_secs(1);

/// What a request's token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// The admin token: every site.
    Admin,
    /// A report token: this site only.
    Site(String),
}

#[derive(Debug, Default)]
struct Snapshot {
    /// Domain -> time zone.
    sites: HashMap<String, Tz>,
    /// Token id -> (site, blake3 hash hex).
    tokens: HashMap<String, (String, String)>,
}

/// Shared, cheaply readable sites and tokens.
#[derive(Debug, Clone)]
pub struct Directory {
    snapshot: Arc<RwLock<Arc<Snapshot>>>,
    /// When the last reload started.
    last_reload: Arc<Mutex<Option<Instant>>>,
    /// Held while reloading: one reload at a time.
    reloads: Arc<tokio::sync::Mutex<()>>,
    admin_token: Option<Arc<str>>,
}

impl Directory {
    /// An empty directory; `admin_token` is the settings' `admin_token`.
    pub fn new(admin_token: Option<String>) -> Self {
        Self {
            snapshot: Arc::default(),
            last_reload: Arc::default(),
            reloads: Arc::default(),
            admin_token: admin_token.map(Arc::from),
        }
    }

    /// Re-reads sites and tokens from ClickHouse (after a reload in progress has ended).
    ///
    /// # Errors
    /// ClickHouse being unreachable; the previous contents stay.
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let _one_at_a_time = self.reloads.lock().await;
        self.reload_now(store).await
    }

    /// [`Directory::reload`], for a caller that holds `reloads`.
    async fn reload_now(&self, store: &Store) -> Result<(), StoreError> {
        *self.last_reload.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        let sites = store.list_sites().await?;
        let tokens = store.list_tokens().await?;
        let snapshot = Snapshot {
            // Sites are validated when added; a time zone this build does not know is skipped.
            sites: sites.into_iter().filter_map(|site| Some((site.domain, site.timezone.parse().ok()?))).collect(),
            tokens: tokens.into_iter().map(|token| (token.id, (token.site, token.hash))).collect(),
        };
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
        Ok(())
    }

    fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reloads once when the last reload is older than [`RELOAD_ON_MISS_AFTER`]; a failed
    /// reload leaves the answer as it was.
    async fn reload_after_miss(&self, store: &Store) {
        let due = self
            .last_reload
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none_or(|at| at.elapsed() >= RELOAD_ON_MISS_AFTER);
        if due {
            if let Err(error) = self.reload(store).await {
                tracing::warn!(%error, "could not reload sites and report tokens");
            }
        }
    }

    /// What `token` allows: the reports API's bearer token and the dashboard's login form
    /// and share links hand it in, each through the wrong-token throttle
    /// ([`crate::auth::AuthFailureLimiter`]). A well-formed report token whose id is not
    /// known yet waits for a reload that started after the request came (at most
    /// `RELOAD_ON_MISS_AFTER` plus the reload), so a token made a moment ago is never
    /// answered as wrong and counted against its client.
    ///
    /// # Errors
    /// [`ReportError::UnknownToken`] when it is neither the admin token nor a current
    /// report token.
    pub async fn grant_token(&self, token: &str, store: &Store) -> Result<Grant, ReportError> {
        let asked = Instant::now();
        if let Some(admin) = &self.admin_token {
            if auth::constant_time_eq(token.as_bytes(), admin.as_bytes()) {
                return Ok(Grant::Admin);
            }
        }
        let id = auth::token_id(token).ok_or(ReportError::UnknownToken)?;
        let hash = auth::hash_token(token);
        // `None`: the id is unknown; `Some(None)`: known, and the secret is wrong.
        let check = |snapshot: &Snapshot| {
            let (site, stored) = snapshot.tokens.get(id)?;
            Some(auth::constant_time_eq(hash.as_bytes(), stored.as_bytes()).then(|| site.clone()))
        };
        if let Some(known) = check(&self.current()) {
            // Ids are random per token: a known id with another secret is a wrong token.
            return known.map(Grant::Site).ok_or(ReportError::UnknownToken);
        }
        self.reload_since(asked, store).await;
        check(&self.current()).flatten().map(Grant::Site).ok_or(ReportError::UnknownToken)
    }

    /// Makes sure a reload that started at or after `asked` has finished: returns when
    /// one has; otherwise waits until [`RELOAD_ON_MISS_AFTER`] has passed since the last
    /// reload and reloads. One reload at a time; a failed reload leaves the answer as it
    /// was.
    async fn reload_since(&self, asked: Instant, store: &Store) {
        let _one_at_a_time = self.reloads.lock().await;
        let last = *self.last_reload.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| at >= asked) {
            return;
        }
        if let Some(at) = last {
            tokio::time::sleep_until((at + RELOAD_ON_MISS_AFTER).into()).await;
        }
        if let Err(error) = self.reload_now(store).await {
            tracing::warn!(%error, "could not reload sites and report tokens");
        }
    }

    /// The time zone of registered site `domain`.
    ///
    /// # Errors
    /// [`ReportError::UnknownSite`] when no such site is registered.
    pub async fn site_time_zone(&self, domain: &str, store: &Store) -> Result<Tz, ReportError> {
        if let Some(tz) = self.current().sites.get(domain) {
            return Ok(*tz);
        }
        self.reload_after_miss(store).await;
        self.current().sites.get(domain).copied().ok_or_else(|| ReportError::UnknownSite { site: domain.to_string() })
    }
}

impl Directory {
    /// The registered sites (domain, time zone), by domain.
    pub fn sites(&self) -> Vec<(String, Tz)> {
        let mut sites: Vec<(String, Tz)> = self.current().sites.iter().map(|(site, tz)| (site.clone(), *tz)).collect();
        sites.sort_by(|a, b| a.0.cmp(&b.0));
        sites
    }
}

/// Re-reads sites and tokens every [`REFRESH_INTERVAL`] until aborted.
pub async fn refresh(directory: Directory, store: Store) {
    let mut ticker = tokio::time::interval(REFRESH_INTERVAL);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        if let Err(error) = directory.reload(&store).await {
            tracing::warn!(%error, "could not refresh sites and report tokens; keeping the previous ones");
        }
    }
}
