//! Background work of a running collector, which `startup` only starts: re-reading the
//! sites and the report tokens, writing intake's tally of events not stored, summarizing
//! ended days for the reports, retention, and
//! the minute's housekeeping (day keys through [`day_keys`], import keys, sessions,
//! rate-limit buckets). Each job runs until the application stops it; a failed pass is
//! logged at WARN and tried again at the next tick. (Forget rounds are the forget
//! queue's own task, `rights::RightsState::spawn`.)

pub mod day_keys;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Directory;
use crate::ingest::not_stored::NotStoredTally;
use crate::privacy::Anonymizer;
use crate::reports::summarize;
use crate::sites::SiteRegistry;
use crate::store::{NotStoredRow, Store};
use crate::throttle::RateLimiter;

/// How often day keys are checked (and created a day ahead) and idle sessions forgotten.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(60);
/// How often old rows are deleted when `retention_days` is set.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// When a job's first pass runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum First {
    /// At once.
    Now,
    /// After one period (start-up has just done the same).
    AfterPeriod,
}

/// Runs `pass` every `period`, logging a failed pass at WARN as "could not `what`".
async fn every<F, E>(period: Duration, first: First, what: &str, mut pass: impl FnMut() -> F)
where
    F: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    if first == First::AfterPeriod {
        ticker.tick().await;
    }
    loop {
        ticker.tick().await;
        if let Err(error) = pass().await {
            tracing::warn!(%error, "could not {what}; will retry");
        }
    }
}

/// Every `period`: re-read the registered sites.
pub(crate) async fn refresh_sites(sites: SiteRegistry, period: Duration) {
    every(period, First::AfterPeriod, "refresh the sites", || sites.reload()).await;
}

/// Every `period`: re-read the report tokens and share links.
pub(crate) async fn refresh_tokens(directory: Directory, period: Duration) {
    every(period, First::AfterPeriod, "refresh the report tokens", || directory.reload()).await;
}

/// Every `period`: write intake's tally of events not stored to ClickHouse (a failed
/// write hands the counts back for the next period).
pub(crate) async fn write_not_stored(store: Store, tally: Arc<NotStoredTally>, period: Duration) {
    every(period, First::AfterPeriod, "write the events not stored", || async {
        let taken = tally.take();
        if taken.is_empty() {
            return Ok(());
        }
        let rows: Vec<NotStoredRow> = taken
            .iter()
            .map(|((site, hour, reason), events)| NotStoredRow {
                site: site.clone(),
                hour: *hour,
                reason: reason.as_str(),
                events: *events,
            })
            .collect();
        let written = store.add_not_stored(&rows).await;
        if written.is_err() {
            tally.restore(taken);
        }
        written
    })
    .await;
}

/// Every `period`: summarize the ended days whose summaries are missing or stale.
pub(crate) async fn summarize(store: Store, period: Duration) {
    every(period, First::Now, "summarize days for the reports", || async {
        let days = summarize::summarize(&store, chrono::Utc::now()).await?;
        if days > 0 {
            tracing::info!(days, "summarized days for the reports");
        }
        Ok::<(), crate::store::StoreError>(())
    })
    .await;
}

/// Every hour (the first time at once): delete rows older than `days` days from every
/// table with visitor hashes.
pub(crate) async fn enforce_retention(store: Store, days: u32) {
    every(RETENTION_INTERVAL, First::Now, "apply retention", || async {
        let cutoff = chrono::Utc::now().timestamp() - i64::from(days) * 86_400;
        let passes = store.apply_retention(cutoff.max(0) as u32).await?;
        for pass in passes.iter().filter(|pass| !pass.dropped_months.is_empty() || pass.deleted_partial_month) {
            tracing::info!(pass.table, ?pass.dropped_months, pass.deleted_partial_month, "retention applied");
        }
        Ok::<(), crate::store::StoreError>(())
    })
    .await;
}

/// Every minute: sync the day keys, forget idle import keys, idle sessions and idle
/// rate-limit buckets.
pub(crate) async fn housekeeping(store: Store, anonymizer: Arc<Anonymizer>, rate_limiter: Arc<RateLimiter>) {
    every(HOUSEKEEPING_INTERVAL, First::AfterPeriod, "refresh the day keys", || async {
        let now = chrono::Utc::now();
        anonymizer.imports().expire(std::time::Instant::now());
        anonymizer.sessions().expire(now.timestamp() as u32);
        rate_limiter.forget_idle(std::time::Instant::now());
        day_keys::sync(anonymizer.keys(), &store, now).await
    })
    .await;
}
