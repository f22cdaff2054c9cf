//! Zero-loss verification, and the set-up it needs.
//!
//! Before the run: the run's sites are registered in footfall's database, and each is
//! probed until the collector accepts it (footfall re-reads its sites every
//! `ingest.sites_refresh_secs`, 10 s by default). Probes use a bot user agent, so footfall
//! answers them 202 once the site is known and stores nothing: they never enter the
//! counts.
//!
//! After the run: the collector has flushed when every event it accepted has an end in its
//! counters (`footfall_events_accepted_total` = stored - replayed + quarantined + dropped
//! at shutdown, read from `/metrics`). Then, per site, the rows in `events` are compared
//! with what the generator knows: events answered 202 must all be there (else *missing*),
//! and there may be no more rows than those plus the events that got no answer (else
//! *extra*: duplicates, or events footfall refused and stored anyway).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use footfall::config::ClickHouseSettings;
use footfall::sites::{Domain, Site};
use footfall::store::Store;
use serde::Serialize;

use crate::client::{self, Target};
use crate::stats::SiteTally;
use crate::traffic::{self, Catalogue};

/// Rows per site in `events`, for the run's sites only (other data in the database is
/// left out).
pub const STORED_PER_SITE: &str = "SELECT site, count() FROM events WHERE has(?, site) GROUP BY site ORDER BY site";

/// How often the set-up and flush waits poll.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// Timeout of one probe or `/metrics` request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// footfall's database, reached directly.
pub fn store(url: &str, database: &str) -> Store {
    Store::new(&ClickHouseSettings { url: url.into(), database: database.into(), ..ClickHouseSettings::default() })
}

/// Registers every site of the run.
///
/// # Errors
/// When ClickHouse is unreachable or footfall's schema is not in the database.
pub async fn register_sites(store: &Store, catalogue: &Catalogue) -> anyhow::Result<()> {
    for site in &catalogue.sites {
        let definition = Site::new(&site.domain, site.timezone, &[])?;
        store.put_site(&definition).await.with_context(|| {
            format!(
                "registering site {} in database `{}`; is footfall serving with this database (it creates the schema)?",
                site.domain,
                store.database()
            )
        })?;
    }
    Ok(())
}

/// Removes the run's sites again (their events stay).
///
/// # Errors
/// When ClickHouse is unreachable.
pub async fn remove_sites(store: &Store, catalogue: &Catalogue) -> anyhow::Result<()> {
    for site in &catalogue.sites {
        let domain = Domain::parse(&site.domain)?;
        store.remove_site(&domain).await.with_context(|| format!("removing site {domain}"))?;
    }
    Ok(())
}

/// Probes each site until the collector accepts events for it.
///
/// # Errors
/// When a site is still unknown after `limit`, or a probe gets another answer than 202
/// or 404.
pub async fn wait_until_sites_accepted(target: &Target, catalogue: &Catalogue, limit: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    for site in &catalogue.sites {
        loop {
            let body = serde_json::json!({"site": site.domain, "name": "pageview", "url": format!("https://{}/", site.domain)});
            let request = hyper::Request::builder()
                .method(hyper::Method::POST)
                .uri("/api/event")
                .header(hyper::header::HOST, target.host.clone())
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .header(hyper::header::USER_AGENT, traffic::PROBE_AGENT)
                .body(http_body_util::Full::new(bytes::Bytes::from(body.to_string())))?;
            let (status, answer) = client::one_shot(target, request, REQUEST_TIMEOUT).await?;
            match status.as_u16() {
                202 => break,
                404 if started.elapsed() < limit => tokio::time::sleep(POLL_EVERY).await,
                404 => bail!(
                    "footfall still does not know site {} after {limit:?}; does it use the database given with --database, and is `ingest.sites_refresh_secs` below --sites-timeout?",
                    site.domain
                ),
                other => bail!("probe for site {} answered {other}: {}", site.domain, String::from_utf8_lossy(&answer)),
            }
        }
    }
    Ok(())
}

/// The counters of footfall's `/metrics` that verification reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CollectorCounters {
    pub accepted: u64,
    pub stored: u64,
    pub replayed: u64,
    pub bot: u64,
    pub rejected: u64,
    pub dropped_queue_full: u64,
    pub dropped_quarantined: u64,
    pub dropped_shutdown: u64,
    pub queue_depth: u64,
}

impl CollectorCounters {
    /// Reads the counters from a Prometheus text exposition.
    ///
    /// # Errors
    /// When one of them is missing: the target is not footfall.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut found = BTreeMap::new();
        for line in text.lines().filter(|line| !line.starts_with('#')) {
            if let Some((sample, value)) = line.rsplit_once(' ') {
                if let Ok(value) = value.parse::<f64>() {
                    found.insert(sample.to_string(), value as u64);
                }
            }
        }
        let get = |name: &str| {
            found.get(name).copied().with_context(|| format!("`{name}` missing from /metrics; is the target footfall?"))
        };
        let rejected = found
            .iter()
            .filter(|(name, _)| name.starts_with("footfall_events_rejected_total{"))
            .map(|(_, value)| value)
            .sum();
        Ok(Self {
            accepted: get("footfall_events_accepted_total")?,
            stored: get("footfall_events_stored_total")?,
            replayed: get("footfall_events_replayed_total")?,
            bot: get("footfall_events_bot_total")?,
            rejected,
            dropped_queue_full: get("footfall_events_dropped_total{reason=\"queue_full\"}")?,
            dropped_quarantined: get("footfall_events_dropped_total{reason=\"quarantined\"}")?,
            dropped_shutdown: get("footfall_events_dropped_total{reason=\"shutdown\"}")?,
            queue_depth: get("footfall_queue_depth")?,
        })
    }

    /// True when every accepted event has reached its end: stored, or counted as lost.
    pub fn flushed(&self) -> bool {
        self.queue_depth == 0
            && self.stored.saturating_sub(self.replayed) + self.dropped_quarantined + self.dropped_shutdown
                >= self.accepted
    }

    /// What changed since `before`.
    pub fn since(&self, before: &Self) -> Self {
        Self {
            accepted: self.accepted.saturating_sub(before.accepted),
            stored: self.stored.saturating_sub(before.stored),
            replayed: self.replayed.saturating_sub(before.replayed),
            bot: self.bot.saturating_sub(before.bot),
            rejected: self.rejected.saturating_sub(before.rejected),
            dropped_queue_full: self.dropped_queue_full.saturating_sub(before.dropped_queue_full),
            dropped_quarantined: self.dropped_quarantined.saturating_sub(before.dropped_quarantined),
            dropped_shutdown: self.dropped_shutdown.saturating_sub(before.dropped_shutdown),
            queue_depth: self.queue_depth,
        }
    }
}

/// Reads footfall's counters.
///
/// # Errors
/// When `/metrics` does not answer 200 with footfall's counters.
pub async fn collector_counters(target: &Target) -> anyhow::Result<CollectorCounters> {
    let (status, body) = client::one_shot(target, client::get(target, "/metrics"), REQUEST_TIMEOUT).await?;
    if !status.is_success() {
        bail!("GET {}/metrics answered {status}", target.base);
    }
    CollectorCounters::parse(&String::from_utf8_lossy(&body))
}

/// Polls `/metrics` until the collector has flushed everything it accepted.
///
/// # Errors
/// When it has not within `limit`, or `/metrics` fails.
pub async fn wait_for_flush(target: &Target, limit: Duration) -> anyhow::Result<CollectorCounters> {
    let started = Instant::now();
    loop {
        let counters = collector_counters(target).await?;
        if counters.flushed() {
            return Ok(counters);
        }
        if started.elapsed() >= limit {
            bail!(
                "footfall has not flushed after {limit:?}: {} accepted, {} stored, {} queued; is ClickHouse down?",
                counters.accepted,
                counters.stored,
                counters.queue_depth
            );
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Rows in `events` for each of `sites`.
///
/// # Errors
/// When ClickHouse does not answer.
pub async fn stored_per_site(store: &Store, sites: &[String]) -> anyhow::Result<BTreeMap<String, u64>> {
    let rows: Vec<(String, u64)> = store
        .client()
        .query(STORED_PER_SITE)
        .bind(sites)
        .fetch_all()
        .await
        .with_context(|| format!("counting the run's rows in {}.events", store.database()))?;
    Ok(rows.into_iter().collect())
}

/// One site's comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteCheck {
    pub site: String,
    /// Events answered 202: each must be stored exactly once.
    pub acknowledged: u64,
    /// Events without an answer: each may or may not be stored.
    pub unknown: u64,
    /// Rows found.
    pub stored: u64,
    /// Acknowledged events not found.
    pub missing: u64,
    /// Rows beyond the acknowledged and unanswered events: duplicates or refused events stored.
    pub extra: u64,
}

/// The comparison over all sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub sites: Vec<SiteCheck>,
    pub acknowledged: u64,
    pub stored: u64,
    pub missing: u64,
    pub extra: u64,
    /// No acknowledged event missing and nothing extra.
    pub zero_loss: bool,
}

/// Compares what the generator saw with what ClickHouse holds, site by site.
pub fn compare(sent: &[(String, SiteTally)], stored: &BTreeMap<String, u64>) -> Verification {
    let sites: Vec<SiteCheck> = sent
        .iter()
        .map(|(site, tally)| {
            let rows = stored.get(site).copied().unwrap_or(0);
            SiteCheck {
                site: site.clone(),
                acknowledged: tally.acknowledged,
                unknown: tally.unknown,
                stored: rows,
                missing: tally.acknowledged.saturating_sub(rows),
                extra: rows.saturating_sub(tally.acknowledged + tally.unknown),
            }
        })
        .collect();
    let sum = |field: fn(&SiteCheck) -> u64| sites.iter().map(field).sum::<u64>();
    let (missing, extra) = (sum(|s| s.missing), sum(|s| s.extra));
    Verification {
        acknowledged: sum(|s| s.acknowledged),
        stored: sum(|s| s.stored),
        missing,
        extra,
        zero_loss: missing == 0 && extra == 0,
        sites,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use super::*;

    fn tally(acknowledged: u64, unknown: u64) -> SiteTally {
        SiteTally { sent: acknowledged + unknown + 5, acknowledged, unknown, shed: 5, unexpected: 0 }
    }

    #[test]
    fn exact_counts_are_zero_loss() {
        let sent = vec![("a.test".to_string(), tally(10, 0)), ("b.test".to_string(), tally(3, 0))];
        let stored = BTreeMap::from([("a.test".to_string(), 10), ("b.test".to_string(), 3)]);
        let verification = compare(&sent, &stored);
        assert!(verification.zero_loss);
        assert_eq!(
            (verification.acknowledged, verification.stored, verification.missing, verification.extra),
            (13, 13, 0, 0)
        );
    }

    #[test]
    fn missing_and_extra_rows_are_found_per_site() {
        // a: 2 acknowledged events lost; b: one stored twice; c: nothing stored at all.
        let sent = vec![
            ("a.test".to_string(), tally(10, 0)),
            ("b.test".to_string(), tally(3, 0)),
            ("c.test".to_string(), tally(4, 0)),
        ];
        let stored = BTreeMap::from([("a.test".to_string(), 8), ("b.test".to_string(), 4)]);
        let verification = compare(&sent, &stored);
        assert!(!verification.zero_loss);
        let per_site: Vec<(u64, u64, u64)> =
            verification.sites.iter().map(|s| (s.stored, s.missing, s.extra)).collect();
        assert_eq!(per_site, vec![(8, 2, 0), (4, 0, 1), (0, 4, 0)]);
        // A loss on one site is not hidden by a duplicate on another.
        assert_eq!((verification.missing, verification.extra), (6, 1));
    }

    #[test]
    fn unanswered_events_may_or_may_not_be_stored() {
        let sent = vec![("a.test".to_string(), tally(10, 3))];
        for stored in 10..=13 {
            let verification = compare(&sent, &BTreeMap::from([("a.test".to_string(), stored)]));
            assert!(verification.zero_loss, "{stored} rows");
        }
        let too_many = compare(&sent, &BTreeMap::from([("a.test".to_string(), 14)]));
        assert_eq!((too_many.missing, too_many.extra), (0, 1));
        let too_few = compare(&sent, &BTreeMap::from([("a.test".to_string(), 9)]));
        assert_eq!((too_few.missing, too_few.extra), (1, 0));
    }

    const METRICS: &str = "\
# HELP footfall_events_accepted_total Events validated and queued for storage.
# TYPE footfall_events_accepted_total counter
footfall_events_accepted_total 120
footfall_events_stored_total 115
footfall_events_bot_total 7
footfall_insert_retries_total 0
footfall_events_spooled_total 0
footfall_events_replayed_total 5
footfall_events_rejected_total{reason=\"malformed_json\"} 2
footfall_events_rejected_total{reason=\"unknown_site\"} 3
footfall_events_dropped_total{reason=\"queue_full\"} 4
footfall_events_dropped_total{reason=\"quarantined\"} 1
footfall_events_dropped_total{reason=\"shutdown\"} 0
footfall_queue_depth 0
footfall_batch_rows_bucket{le=\"+Inf\"} 3
";

    #[test]
    fn counters_are_read_from_the_metrics_text() {
        let counters = CollectorCounters::parse(METRICS).unwrap();
        assert_eq!(
            counters,
            CollectorCounters {
                accepted: 120,
                stored: 115,
                replayed: 5,
                bot: 7,
                rejected: 5,
                dropped_queue_full: 4,
                dropped_quarantined: 1,
                dropped_shutdown: 0,
                queue_depth: 0,
            }
        );
        let error = CollectorCounters::parse("up 1\n").unwrap_err();
        assert!(error.to_string().contains("footfall_events_accepted_total"), "{error}");
    }

    #[test]
    fn flushed_when_every_accepted_event_has_an_end() {
        let counters = CollectorCounters::parse(METRICS).unwrap();
        // 115 stored - 5 replayed from an earlier run + 1 quarantined = 111 of 120 accepted.
        assert!(!counters.flushed());
        let done = CollectorCounters { stored: 124, ..counters };
        assert!(done.flushed());
        assert!(!CollectorCounters { queue_depth: 1, ..done }.flushed());
        let delta = done.since(&counters);
        assert_eq!((delta.accepted, delta.stored, delta.rejected), (0, 9, 0));
    }

    #[test]
    fn the_count_query_runs_on_current_clickhouse() {
        let query = clickhouse::Client::default()
            .query(&STORED_PER_SITE.replace("FROM events", "FROM footfall.events"))
            // As stored_per_site binds it: a slice of the run's site names.
            .bind(&["a.test".to_string(), "b.test".to_string()][..])
            .sql_display()
            .to_string();
        let statements = vec![
            "CREATE DATABASE footfall".to_string(),
            "CREATE TABLE footfall.events (site String, ts DateTime('UTC')) ENGINE = MergeTree ORDER BY (site, ts)"
                .to_string(),
            "INSERT INTO footfall.events VALUES ('a.test', 0), ('a.test', 1), ('c.test', 2)".to_string(),
            query,
        ];
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/chdb-check");
        let mut child = Command::new("python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs scripts/chdb-check");
        child.stdin.take().unwrap().write_all(serde_json::to_string(&statements).unwrap().as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(report.contains("4 passed, 0 failed"), "{report}");
    }
}
