//! Background work of a running collector, which `startup` only starts: re-reading the
//! sites, retention, and the minute's housekeeping (day keys, import keys, sessions,
//! rate-limit buckets). Each job runs until the application stops it; a failed pass is
//! logged at WARN and tried again at the next tick. (The report summarizer is started by
//! `reports`; forget rounds by `rights`.)

use std::sync::Arc;
use std::time::Duration;

use crate::ingest::SiteDirectory;
use crate::privacy::Anonymizer;
use crate::store::Store;
use crate::throttle::RateLimiter;

/// How often day keys are checked (and created a day ahead) and idle sessions forgotten.
const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// How often old rows are deleted when `retention_days` is set.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// Every `every`: replace intake's site directory with the sites in ClickHouse.
pub(crate) async fn refresh_sites(store: Store, sites: SiteDirectory, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        match store.list_sites().await {
            Ok(list) => sites.replace(&list),
            Err(error) => tracing::warn!(%error, "could not refresh sites; keeping the previous list"),
        }
    }
}

/// Every hour: delete rows older than `days` days from every table with visitor hashes.
pub(crate) async fn enforce_retention(store: Store, days: u32) {
    let mut ticker = tokio::time::interval(RETENTION_INTERVAL);
    loop {
        ticker.tick().await;
        let cutoff = chrono::Utc::now().timestamp() - i64::from(days) * 86_400;
        match store.apply_retention(cutoff.max(0) as u32).await {
            Ok(passes) => {
                for pass in passes.iter().filter(|pass| !pass.dropped_months.is_empty() || pass.deleted_partial_month) {
                    tracing::info!(pass.table, ?pass.dropped_months, pass.deleted_partial_month, "retention applied");
                }
            }
            Err(error) => tracing::warn!(%error, "could not apply retention; will retry"),
        }
    }
}

/// Every minute: refresh day keys, forget idle import keys, idle sessions and idle
/// rate-limit buckets.
pub(crate) async fn housekeeping(store: Store, anonymizer: Arc<Anonymizer>, rate_limiter: Arc<RateLimiter>) {
    let mut ticker = tokio::time::interval(KEY_REFRESH_INTERVAL);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let now = chrono::Utc::now();
        if let Err(error) = anonymizer.keys().refresh(&store, now).await {
            tracing::warn!(%error, "could not refresh day keys; will retry");
        }
        anonymizer.imports().expire(std::time::Instant::now());
        anonymizer.sessions().expire(now.timestamp() as u32);
        rate_limiter.forget_idle(std::time::Instant::now());
    }
}
