//! Counters every stage updates and `/metrics` renders in the Prometheus text format
//! (version 0.0.4), kept in a `prometheus-client` registry and written by its encoder.
//!
//! Updating a counter on the ingest hot path is one relaxed atomic add: each counter, and
//! each label value of a labelled counter, is a handle resolved once when [`Metrics`] is
//! made, so no update looks up a label set. Every event that reaches footfall ends in
//! exactly one of: stored, bot, refused (by signal), rejected (by reason), dropped (by
//! reason), or still queued/in a batch; the counters make that provable.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Why intake refused an event (answered 4xx). Labels of `footfall_events_rejected_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// Body is not valid JSON (or not UTF-8).
    MalformedJson,
    /// A field has the wrong type, is missing, or is out of range.
    InvalidField,
    /// `site` is not registered.
    UnknownSite,
    /// `Origin` or the page URL's host does not belong to the site.
    ForeignOrigin,
    /// Body larger than `ingest.max_body_bytes`.
    BodyTooLarge,
    /// Array longer than `ingest.max_batch_events`, or empty.
    BatchSize,
    /// `Content-Type` is neither JSON nor text/plain.
    UnsupportedMediaType,
    /// The client sent more than `ingest.rate_limit_per_second` allows (429).
    RateLimited,
    /// The site is in consent mode and the event did not say the visitor consented.
    NoConsent,
    /// The body did not arrive within `ingest.body_timeout_ms` (408).
    BodyTimeout,
}

impl RejectReason {
    /// Every reason, in declaration order (`reason as usize` indexes this).
    const ALL: [Self; 10] = [
        Self::MalformedJson,
        Self::InvalidField,
        Self::UnknownSite,
        Self::ForeignOrigin,
        Self::BodyTooLarge,
        Self::BatchSize,
        Self::UnsupportedMediaType,
        Self::RateLimited,
        Self::NoConsent,
        Self::BodyTimeout,
    ];

    /// The Prometheus label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedJson => "malformed_json",
            Self::InvalidField => "invalid_field",
            Self::UnknownSite => "unknown_site",
            Self::ForeignOrigin => "foreign_origin",
            Self::BodyTooLarge => "body_too_large",
            Self::BatchSize => "batch_size",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::NoConsent => "no_consent",
            Self::BodyTimeout => "body_timeout",
        }
    }
}

/// Why an accepted-looking event was not stored. Labels of `footfall_events_dropped_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The queue stayed full for `pipeline.queue_full_wait_ms`; the client got 503.
    QueueFull,
    /// ClickHouse rejected the data itself (not retryable); rows went to quarantine.
    Quarantined,
    /// Shutdown deadline passed and the spool could not be written either.
    Shutdown,
    /// Durable mode: the spool is over `spool_max_bytes`; the client got 503.
    SpoolFull,
}

impl DropReason {
    /// Every reason, in declaration order (`reason as usize` indexes this).
    const ALL: [Self; 4] = [Self::QueueFull, Self::Quarantined, Self::Shutdown, Self::SpoolFull];

    /// The Prometheus label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueueFull => "queue_full",
            Self::Quarantined => "quarantined",
            Self::Shutdown => "shutdown",
            Self::SpoolFull => "spool_full",
        }
    }
}

/// Which refusal signal a request carried when intake stored nothing of it (privacy rule
/// 4). Labels of `footfall_events_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalSignal {
    /// `Sec-GPC: 1` (Global Privacy Control).
    GlobalPrivacyControl,
    /// The `footfall_optout=1` cookie the opt-out page and `footfall.optOut()` set.
    OptOut,
    /// `DNT: 1`, for a site not added with `--ignore-dnt`.
    DoNotTrack,
}

impl RefusalSignal {
    /// Every signal, in declaration order (`signal as usize` indexes this).
    const ALL: [Self; 3] = [Self::GlobalPrivacyControl, Self::OptOut, Self::DoNotTrack];

    /// The Prometheus label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GlobalPrivacyControl => "gpc",
            Self::OptOut => "opt_out",
            Self::DoNotTrack => "dnt",
        }
    }
}

/// Values sampled at render time rather than counted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub queue_depth: u64,
    pub spool_bytes: u64,
    pub spool_caught_up: bool,
}

/// A gauge of a `u64`.
type U64Gauge = Gauge<u64, AtomicU64>;

/// All of footfall's counters. One instance per application, shared by `Arc`.
#[derive(Debug)]
pub struct Metrics {
    /// Events that passed validation and were queued for storage.
    pub accepted: Counter,
    /// Events ClickHouse acknowledged.
    pub stored: Counter,
    /// Events from bot user agents: answered 202, not stored.
    pub bots: Counter,
    /// Failed INSERTs that will be retried.
    pub insert_retries: Counter,
    /// Events written to the disk spool: by the writer (ClickHouse down, slow, or
    /// shutdown), and in durable mode every accepted event.
    pub spooled: Counter,
    /// Events the replayer delivered from the spool (also counted in `stored`).
    pub replayed: Counter,
    /// `/api/forget` requests queued for deletion.
    pub forgotten_visitors: Counter,
    /// Spool bytes that were not valid records (torn or corrupt), copied to quarantine.
    pub spool_corrupt_bytes: Counter,
    /// Dashboard logins and share links refused for a wrong token.
    pub login_failures: Counter,
    /// Dashboard logins and share links refused by the wrong-token throttle.
    pub logins_throttled: Counter,
    /// Dashboard sessions not opened for a right token: the client opened too many (429)
    /// or the session cap was reached (503).
    pub dashboard_sessions_refused: Counter,
    /// Reports API requests refused for a wrong bearer token (401).
    pub report_token_failures: Counter,
    /// Reports API requests refused because the client sent too many wrong tokens (429).
    pub report_tokens_throttled: Counter,
    /// One handle per reason, indexed by `reason as usize`.
    rejected: [Counter; RejectReason::ALL.len()],
    /// One handle per reason, indexed by `reason as usize`.
    dropped: [Counter; DropReason::ALL.len()],
    /// One handle per signal, indexed by `signal as usize`.
    refused: [Counter; RefusalSignal::ALL.len()],
    /// Set from the caller's [`Gauges`] on each render, like the two below.
    queue_depth: U64Gauge,
    spool_bytes: U64Gauge,
    spool_caught_up: U64Gauge,
    /// Rows per written batch.
    pub batch_rows: Histogram,
    /// Seconds one successful INSERT took.
    pub flush_seconds: Histogram,
    /// Every metric above, in the order `/metrics` lists them.
    registry: Registry,
}

/// Registers counter `name` (the encoder appends `_total`).
fn counter(registry: &mut Registry, name: &str, help: &str) -> Counter {
    let counter = Counter::default();
    registry.register(name, help, counter.clone());
    counter
}

/// Registers counter `name` with one sample per value of `label`, and returns the
/// handles in the order of `values`.
fn labelled<const N: usize>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    label: &'static str,
    values: [&'static str; N],
) -> [Counter; N] {
    let family = Family::<[(&'static str, &'static str); 1], Counter>::default();
    let handles = values.map(|value| family.get_or_create_owned(&[(label, value)]));
    registry.register(name, help, family);
    handles
}

fn gauge(registry: &mut Registry, name: &str, help: &str) -> U64Gauge {
    let gauge = U64Gauge::default();
    registry.register(name, help, gauge.clone());
    gauge
}

fn histogram(registry: &mut Registry, name: &str, help: &str, bounds: &[f64]) -> Histogram {
    let histogram = Histogram::new(bounds.iter().copied());
    registry.register(name, help, histogram.clone());
    histogram
}

impl Default for Metrics {
    fn default() -> Self {
        // Help texts without a final period: the registry appends one.
        let mut registry = Registry::default();
        let r = &mut registry;
        Self {
            accepted: counter(r, "footfall_events_accepted", "Events validated and queued for storage"),
            stored: counter(r, "footfall_events_stored", "Events ClickHouse acknowledged"),
            bots: counter(r, "footfall_events_bot", "Events from bot user agents, answered 202 and not stored"),
            insert_retries: counter(r, "footfall_insert_retries", "Failed INSERTs that were retried"),
            spooled: counter(
                r,
                "footfall_events_spooled",
                "Events written to the disk spool (ClickHouse down or slow, shutdown; every event in durable mode)",
            ),
            replayed: counter(r, "footfall_events_replayed", "Events delivered from the spool (also in stored_total)"),
            forgotten_visitors: counter(r, "footfall_forget_requests", "Visitor forget requests queued for deletion"),
            spool_corrupt_bytes: counter(
                r,
                "footfall_spool_corrupt_bytes",
                "Spool bytes that were not valid records, copied to the quarantine",
            ),
            login_failures: counter(
                r,
                "footfall_dashboard_login_failures",
                "Dashboard logins refused for a wrong token",
            ),
            logins_throttled: counter(
                r,
                "footfall_dashboard_logins_throttled",
                "Dashboard logins and share links refused by the wrong-token throttle",
            ),
            dashboard_sessions_refused: counter(
                r,
                "footfall_dashboard_sessions_refused",
                "Dashboard sessions not opened: too many from one client (429) or the session cap reached (503)",
            ),
            report_token_failures: counter(
                r,
                "footfall_reports_token_failures",
                "Reports API requests refused for a wrong bearer token",
            ),
            report_tokens_throttled: counter(
                r,
                "footfall_reports_tokens_throttled",
                "Reports API requests refused with 429 after too many wrong tokens from the client",
            ),
            rejected: labelled(
                r,
                "footfall_events_rejected",
                "Events refused with a 4xx, by reason",
                "reason",
                RejectReason::ALL.map(RejectReason::as_str),
            ),
            dropped: labelled(
                r,
                "footfall_events_dropped",
                "Events not stored after intake, by reason",
                "reason",
                DropReason::ALL.map(DropReason::as_str),
            ),
            refused: labelled(
                r,
                "footfall_events_refused",
                "Events answered 202 and not stored because the request refused tracking, by signal",
                "signal",
                RefusalSignal::ALL.map(RefusalSignal::as_str),
            ),
            queue_depth: gauge(r, "footfall_queue_depth", "Events waiting in the in-memory queue"),
            spool_bytes: gauge(r, "footfall_spool_bytes", "Bytes of spool segments on disk (delivered or not)"),
            spool_caught_up: gauge(r, "footfall_spool_caught_up", "1 when the spool holds nothing undelivered, else 0"),
            batch_rows: histogram(
                r,
                "footfall_batch_rows",
                "Rows per INSERT batch",
                &[1.0, 10.0, 100.0, 1_000.0, 10_000.0, 50_000.0, 100_000.0],
            ),
            flush_seconds: histogram(
                r,
                "footfall_flush_seconds",
                "Duration of successful INSERTs in seconds",
                &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0],
            ),
            registry,
        }
    }
}

impl Metrics {
    /// Counts `events` refused for `reason`.
    pub fn reject(&self, reason: RejectReason, events: u64) {
        self.rejected[reason as usize].inc_by(events);
    }

    /// Counts `events` not stored for `reason`.
    pub fn drop_events(&self, reason: DropReason, events: u64) {
        self.dropped[reason as usize].inc_by(events);
    }

    /// Counts `events` answered 202 and not stored because the request carried `signal`.
    pub fn refuse(&self, signal: RefusalSignal, events: u64) {
        self.refused[signal as usize].inc_by(events);
    }

    /// The Prometheus text exposition, with gauges sampled by the caller.
    ///
    /// # Panics
    /// Never in practice: the encoder writes into a `String`, which cannot fail.
    pub fn render(&self, gauges: &Gauges) -> String {
        self.queue_depth.set(gauges.queue_depth);
        self.spool_bytes.set(gauges.spool_bytes);
        self.spool_caught_up.set(u64::from(gauges.spool_caught_up));
        let mut out = String::with_capacity(4096);
        prometheus_text::encode(&mut out, &self.registry).expect("writing to a String does not fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_lists_follow_declaration_order() {
        for (index, reason) in RejectReason::ALL.iter().enumerate() {
            assert_eq!(*reason as usize, index);
        }
        for (index, reason) in DropReason::ALL.iter().enumerate() {
            assert_eq!(*reason as usize, index);
        }
        for (index, signal) in RefusalSignal::ALL.iter().enumerate() {
            assert_eq!(*signal as usize, index);
        }
    }

    /// What the hand-written renderer before `prometheus-client` wrote for the values
    /// below, except `_sum`, now always a float: every name, label, HELP and TYPE stays.
    const EXPOSITION: &str = r#"# HELP footfall_events_accepted_total Events validated and queued for storage.
# TYPE footfall_events_accepted_total counter
footfall_events_accepted_total 5
# HELP footfall_events_stored_total Events ClickHouse acknowledged.
# TYPE footfall_events_stored_total counter
footfall_events_stored_total 0
# HELP footfall_events_bot_total Events from bot user agents, answered 202 and not stored.
# TYPE footfall_events_bot_total counter
footfall_events_bot_total 0
# HELP footfall_insert_retries_total Failed INSERTs that were retried.
# TYPE footfall_insert_retries_total counter
footfall_insert_retries_total 0
# HELP footfall_events_spooled_total Events written to the disk spool (ClickHouse down or slow, shutdown; every event in durable mode).
# TYPE footfall_events_spooled_total counter
footfall_events_spooled_total 0
# HELP footfall_events_replayed_total Events delivered from the spool (also in stored_total).
# TYPE footfall_events_replayed_total counter
footfall_events_replayed_total 0
# HELP footfall_forget_requests_total Visitor forget requests queued for deletion.
# TYPE footfall_forget_requests_total counter
footfall_forget_requests_total 0
# HELP footfall_spool_corrupt_bytes_total Spool bytes that were not valid records, copied to the quarantine.
# TYPE footfall_spool_corrupt_bytes_total counter
footfall_spool_corrupt_bytes_total 0
# HELP footfall_dashboard_login_failures_total Dashboard logins refused for a wrong token.
# TYPE footfall_dashboard_login_failures_total counter
footfall_dashboard_login_failures_total 0
# HELP footfall_dashboard_logins_throttled_total Dashboard logins and share links refused by the wrong-token throttle.
# TYPE footfall_dashboard_logins_throttled_total counter
footfall_dashboard_logins_throttled_total 0
# HELP footfall_dashboard_sessions_refused_total Dashboard sessions not opened: too many from one client (429) or the session cap reached (503).
# TYPE footfall_dashboard_sessions_refused_total counter
footfall_dashboard_sessions_refused_total 0
# HELP footfall_reports_token_failures_total Reports API requests refused for a wrong bearer token.
# TYPE footfall_reports_token_failures_total counter
footfall_reports_token_failures_total 0
# HELP footfall_reports_tokens_throttled_total Reports API requests refused with 429 after too many wrong tokens from the client.
# TYPE footfall_reports_tokens_throttled_total counter
footfall_reports_tokens_throttled_total 0
# HELP footfall_events_rejected_total Events refused with a 4xx, by reason.
# TYPE footfall_events_rejected_total counter
footfall_events_rejected_total{reason="malformed_json"} 0
footfall_events_rejected_total{reason="invalid_field"} 0
footfall_events_rejected_total{reason="unknown_site"} 2
footfall_events_rejected_total{reason="foreign_origin"} 0
footfall_events_rejected_total{reason="body_too_large"} 0
footfall_events_rejected_total{reason="batch_size"} 0
footfall_events_rejected_total{reason="unsupported_media_type"} 0
footfall_events_rejected_total{reason="rate_limited"} 0
footfall_events_rejected_total{reason="no_consent"} 0
footfall_events_rejected_total{reason="body_timeout"} 0
# HELP footfall_events_dropped_total Events not stored after intake, by reason.
# TYPE footfall_events_dropped_total counter
footfall_events_dropped_total{reason="queue_full"} 3
footfall_events_dropped_total{reason="quarantined"} 0
footfall_events_dropped_total{reason="shutdown"} 0
footfall_events_dropped_total{reason="spool_full"} 0
# HELP footfall_events_refused_total Events answered 202 and not stored because the request refused tracking, by signal.
# TYPE footfall_events_refused_total counter
footfall_events_refused_total{signal="gpc"} 0
footfall_events_refused_total{signal="opt_out"} 0
footfall_events_refused_total{signal="dnt"} 1
# HELP footfall_queue_depth Events waiting in the in-memory queue.
# TYPE footfall_queue_depth gauge
footfall_queue_depth 7
# HELP footfall_spool_bytes Bytes of spool segments on disk (delivered or not).
# TYPE footfall_spool_bytes gauge
footfall_spool_bytes 3
# HELP footfall_spool_caught_up 1 when the spool holds nothing undelivered, else 0.
# TYPE footfall_spool_caught_up gauge
footfall_spool_caught_up 1
# HELP footfall_batch_rows Rows per INSERT batch.
# TYPE footfall_batch_rows histogram
footfall_batch_rows_bucket{le="1"} 0
footfall_batch_rows_bucket{le="10"} 1
footfall_batch_rows_bucket{le="100"} 1
footfall_batch_rows_bucket{le="1000"} 1
footfall_batch_rows_bucket{le="10000"} 1
footfall_batch_rows_bucket{le="50000"} 1
footfall_batch_rows_bucket{le="100000"} 1
footfall_batch_rows_bucket{le="+Inf"} 1
footfall_batch_rows_sum 5.0
footfall_batch_rows_count 1
# HELP footfall_flush_seconds Duration of successful INSERTs in seconds.
# TYPE footfall_flush_seconds histogram
footfall_flush_seconds_bucket{le="0.001"} 0
footfall_flush_seconds_bucket{le="0.005"} 0
footfall_flush_seconds_bucket{le="0.01"} 0
footfall_flush_seconds_bucket{le="0.05"} 0
footfall_flush_seconds_bucket{le="0.1"} 0
footfall_flush_seconds_bucket{le="0.5"} 0
footfall_flush_seconds_bucket{le="1"} 0
footfall_flush_seconds_bucket{le="5"} 0
footfall_flush_seconds_bucket{le="10"} 0
footfall_flush_seconds_bucket{le="+Inf"} 0
footfall_flush_seconds_sum 0.0
footfall_flush_seconds_count 0
"#;

    /// The lines of `text` that start with `#`, in order, and all its lines, sorted (a
    /// labelled counter lists its label values in no fixed order).
    fn shape(text: &str) -> (Vec<&str>, Vec<&str>) {
        let mut lines: Vec<&str> = text.lines().collect();
        let comments = lines.iter().copied().filter(|line| line.starts_with('#')).collect();
        lines.sort_unstable();
        (comments, lines)
    }

    #[test]
    fn renders_every_metric_as_before() {
        let metrics = Metrics::default();
        metrics.accepted.inc_by(5);
        metrics.reject(RejectReason::UnknownSite, 2);
        metrics.drop_events(DropReason::QueueFull, 3);
        metrics.refuse(RefusalSignal::DoNotTrack, 1);
        metrics.batch_rows.observe(5.0);
        let text = metrics.render(&Gauges { queue_depth: 7, spool_bytes: 3, spool_caught_up: true });
        assert_eq!(shape(&text), shape(EXPOSITION), "{text}");
    }
}
