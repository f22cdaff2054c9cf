//! One reload at a time, and reloads on a miss rate-limited: the machinery of the
//! in-memory copies of ClickHouse tables that requests read (the site registry,
//! `sites::SiteRegistry`, and the token directory, `auth::Directory`).
//!
//! A request that misses the copy (a site or token made a moment ago) can make it reload,
//! and reloads caused by misses come at most once per `min_gap`, so a flood of unknown
//! names cannot make ClickHouse busy. Two ways to miss:
//! [`Reloads::since`] waits for a reload that started after the request (the tokens: a
//! token made a moment ago must never be counted as a wrong guess), [`Reloads::if_due`]
//! reloads only when the last reload is `min_gap` old and otherwise answers at once (the
//! sites, read by every event: a flood of unknown sites must not hold connections).

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Why a copy could not be reloaded (the source's error, boxed).
pub type LoadError = Box<dyn std::error::Error + Send + Sync>;

/// When the copy was last reloaded, and the lock that keeps reloads one at a time.
#[derive(Debug)]
pub(crate) struct Reloads {
    /// When the last reload started.
    last: Mutex<Option<Instant>>,
    /// Held while reloading.
    running: tokio::sync::Mutex<()>,
    /// Least time between two reloads caused by misses.
    min_gap: Duration,
}

impl Reloads {
    /// No reload yet; misses reload at most once per `min_gap`.
    pub(crate) fn new(min_gap: Duration) -> Self {
        Self { last: Mutex::new(None), running: tokio::sync::Mutex::new(()), min_gap }
    }

    /// Runs `reload` once a reload in progress has ended.
    pub(crate) async fn run<F, T, E>(&self, reload: impl FnOnce() -> F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let _one_at_a_time = self.running.lock().await;
        self.started(Instant::now());
        reload().await
    }

    /// Makes sure a reload that started after `asked` has finished: returns when
    /// one has; otherwise waits until `min_gap` has passed since the last reload and runs
    /// `reload`. A failed reload is logged (as "could not reload `what`") and leaves the
    /// copy as it was.
    pub(crate) async fn since<F, E>(&self, asked: Instant, what: &str, reload: impl FnOnce() -> F)
    where
        F: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        let _one_at_a_time = self.running.lock().await;
        let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
        // Strictly after: a reload that started at the very instant of the request may
        // have read the table before the request's site or token was written.
        if last.is_some_and(|at| at > asked) {
            return;
        }
        if let Some(at) = last {
            tokio::time::sleep_until(at + self.min_gap).await;
        }
        self.started(Instant::now());
        if let Err(error) = reload().await {
            tracing::warn!(%error, "could not reload {what}");
        }
    }

    /// Runs `reload` when the last reload started `min_gap` or more ago (or none has), after
    /// a reload in progress has ended (a miss that waited for another miss's reload does not
    /// reload again); otherwise returns at once. A failed reload is logged (as "could not
    /// reload `what`") and leaves the copy as it was.
    pub(crate) async fn if_due<F, E>(&self, what: &str, reload: impl FnOnce() -> F)
    where
        F: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        let last = || *self.last.lock().unwrap_or_else(|e| e.into_inner());
        let asked = last();
        if asked.is_some_and(|at| at.elapsed() < self.min_gap) {
            return;
        }
        let _one_at_a_time = self.running.lock().await;
        if last() != asked {
            return; // another miss reloaded while this one waited
        }
        self.started(Instant::now());
        if let Err(error) = reload().await {
            tracing::warn!(%error, "could not reload {what}");
        }
    }

    fn started(&self, at: Instant) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(at);
    }
}
