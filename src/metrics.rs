//! Counters every stage updates and `/metrics` renders in the Prometheus text format.
//!
//! Plain atomics: updating a counter on the ingest hot path is one relaxed add. Every
//! event that reaches footfall ends in exactly one of: stored, bot, refused (by signal),
//! rejected (by reason), dropped (by reason), or still queued/in a batch; the counters make that provable.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

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

/// Writes counter `name` with one sample per `(label value, count)`.
fn labelled_counter<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    samples: impl IntoIterator<Item = (&'a str, u64)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (value, count) in samples {
        let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {count}");
    }
}

/// Values sampled at render time rather than counted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub queue_depth: u64,
    pub spool_bytes: u64,
    pub spool_caught_up: bool,
}

/// A Prometheus histogram with fixed buckets.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, value: f64) {
        if let Some(bucket) = self.bounds.iter().position(|bound| value <= *bound) {
            self.counts[bucket].fetch_add(1, Relaxed);
        }
        self.sum_micros.fetch_add((value * 1e6) as u64, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// All of footfall's counters. One instance per application, shared by `Arc`.
#[derive(Debug)]
pub struct Metrics {
    /// Events that passed validation and were queued for storage.
    pub accepted: AtomicU64,
    /// Events ClickHouse acknowledged.
    pub stored: AtomicU64,
    /// Events from bot user agents: answered 202, not stored.
    pub bots: AtomicU64,
    rejected: [AtomicU64; RejectReason::ALL.len()],
    dropped: [AtomicU64; DropReason::ALL.len()],
    refused: [AtomicU64; RefusalSignal::ALL.len()],
    /// Failed INSERTs that will be retried.
    pub insert_retries: AtomicU64,
    /// Events written to the disk spool: by the writer (ClickHouse down, slow, or
    /// shutdown), and in durable mode every accepted event.
    pub spooled: AtomicU64,
    /// Events the replayer delivered from the spool (also counted in `stored`).
    pub replayed: AtomicU64,
    /// Spool bytes that were not valid records (torn or corrupt), copied to quarantine.
    pub spool_corrupt_bytes: AtomicU64,
    /// `/api/forget` requests queued for deletion.
    pub forgotten_visitors: AtomicU64,
    /// Dashboard logins and share links refused for a wrong token.
    pub login_failures: AtomicU64,
    /// Dashboard logins and share links refused by the wrong-token throttle.
    pub logins_throttled: AtomicU64,
    /// Dashboard sessions not opened for a right token: the client opened too many (429)
    /// or the session cap was reached (503).
    pub dashboard_sessions_refused: AtomicU64,
    /// Reports API requests refused for a wrong bearer token (401).
    pub report_token_failures: AtomicU64,
    /// Reports API requests refused because the client sent too many wrong tokens (429).
    pub report_tokens_throttled: AtomicU64,
    /// Rows per written batch.
    pub batch_rows: Histogram,
    /// Seconds one successful INSERT took.
    pub flush_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            accepted: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            bots: AtomicU64::new(0),
            rejected: Default::default(),
            dropped: Default::default(),
            refused: Default::default(),
            insert_retries: AtomicU64::new(0),
            spooled: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
            spool_corrupt_bytes: AtomicU64::new(0),
            forgotten_visitors: AtomicU64::new(0),
            login_failures: AtomicU64::new(0),
            logins_throttled: AtomicU64::new(0),
            dashboard_sessions_refused: AtomicU64::new(0),
            report_token_failures: AtomicU64::new(0),
            report_tokens_throttled: AtomicU64::new(0),
            batch_rows: Histogram::new(&[1.0, 10.0, 100.0, 1_000.0, 10_000.0, 50_000.0, 100_000.0]),
            flush_seconds: Histogram::new(&[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0]),
        }
    }
}

impl Metrics {
    /// Counts `events` refused for `reason`.
    pub fn reject(&self, reason: RejectReason, events: u64) {
        self.rejected[reason as usize].fetch_add(events, Relaxed);
    }

    /// Counts `events` not stored for `reason`.
    pub fn drop_events(&self, reason: DropReason, events: u64) {
        self.dropped[reason as usize].fetch_add(events, Relaxed);
    }

    /// Counts `events` answered 202 and not stored because the request carried `signal`.
    pub fn refuse(&self, signal: RefusalSignal, events: u64) {
        self.refused[signal as usize].fetch_add(events, Relaxed);
    }

    /// Events not stored for `signal` so far.
    pub fn refused(&self, signal: RefusalSignal) -> u64 {
        self.refused[signal as usize].load(Relaxed)
    }

    /// Events refused for `reason` so far.
    pub fn rejected(&self, reason: RejectReason) -> u64 {
        self.rejected[reason as usize].load(Relaxed)
    }

    /// Events dropped for `reason` so far.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason as usize].load(Relaxed)
    }

    /// The Prometheus text exposition, with gauges sampled by the caller.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        let counters = [
            ("footfall_events_accepted_total", "Events validated and queued for storage.", &self.accepted),
            ("footfall_events_stored_total", "Events ClickHouse acknowledged.", &self.stored),
            ("footfall_events_bot_total", "Events from bot user agents, answered 202 and not stored.", &self.bots),
            ("footfall_insert_retries_total", "Failed INSERTs that were retried.", &self.insert_retries),
            (
                "footfall_events_spooled_total",
                "Events written to the disk spool (ClickHouse down or slow, shutdown; every event in durable mode).",
                &self.spooled,
            ),
            (
                "footfall_events_replayed_total",
                "Events delivered from the spool (also in stored_total).",
                &self.replayed,
            ),
            (
                "footfall_forget_requests_total",
                "Visitor forget requests queued for deletion.",
                &self.forgotten_visitors,
            ),
            (
                "footfall_spool_corrupt_bytes_total",
                "Spool bytes that were not valid records, copied to the quarantine.",
                &self.spool_corrupt_bytes,
            ),
            (
                "footfall_dashboard_login_failures_total",
                "Dashboard logins refused for a wrong token.",
                &self.login_failures,
            ),
            (
                "footfall_dashboard_logins_throttled_total",
                "Dashboard logins and share links refused by the wrong-token throttle.",
                &self.logins_throttled,
            ),
            (
                "footfall_dashboard_sessions_refused_total",
                "Dashboard sessions not opened: too many from one client (429) or the session cap reached (503).",
                &self.dashboard_sessions_refused,
            ),
            (
                "footfall_reports_token_failures_total",
                "Reports API requests refused for a wrong bearer token.",
                &self.report_token_failures,
            ),
            (
                "footfall_reports_tokens_throttled_total",
                "Reports API requests refused with 429 after too many wrong tokens from the client.",
                &self.report_tokens_throttled,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", value.load(Relaxed));
        }
        labelled_counter(
            &mut out,
            "footfall_events_rejected_total",
            "Events refused with a 4xx, by reason.",
            "reason",
            RejectReason::ALL.map(|reason| (reason.as_str(), self.rejected(reason))),
        );
        labelled_counter(
            &mut out,
            "footfall_events_dropped_total",
            "Events not stored after intake, by reason.",
            "reason",
            DropReason::ALL.map(|reason| (reason.as_str(), self.dropped(reason))),
        );
        labelled_counter(
            &mut out,
            "footfall_events_refused_total",
            "Events answered 202 and not stored because the request refused tracking, by signal.",
            "signal",
            RefusalSignal::ALL.map(|signal| (signal.as_str(), self.refused(signal))),
        );
        let gauge_lines = [
            ("footfall_queue_depth", "Events waiting in the in-memory queue.", gauges.queue_depth),
            ("footfall_spool_bytes", "Bytes of spool segments on disk (delivered or not).", gauges.spool_bytes),
            (
                "footfall_spool_caught_up",
                "1 when the spool holds nothing undelivered, else 0.",
                u64::from(gauges.spool_caught_up),
            ),
        ];
        for (name, help, value) in gauge_lines {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        }
        self.batch_rows.render(&mut out, "footfall_batch_rows", "Rows per INSERT batch.");
        self.flush_seconds.render(&mut out, "footfall_flush_seconds", "Duration of successful INSERTs in seconds.");
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
    }

    #[test]
    fn renders_counters_and_histograms() {
        let metrics = Metrics::default();
        metrics.reject(RejectReason::UnknownSite, 2);
        metrics.drop_events(DropReason::QueueFull, 3);
        metrics.batch_rows.observe(5.0);
        let text = metrics.render(&Gauges { queue_depth: 7, spool_bytes: 3, spool_caught_up: true });
        assert!(text.contains("footfall_events_rejected_total{reason=\"unknown_site\"} 2\n"));
        assert!(text.contains("footfall_events_dropped_total{reason=\"queue_full\"} 3\n"));
        assert!(text.contains("footfall_queue_depth 7\n"));
        assert!(text.contains("footfall_spool_bytes 3\n"));
        assert!(text.contains("footfall_spool_caught_up 1\n"));
        assert!(text.contains("footfall_batch_rows_bucket{le=\"10\"} 1\n"));
        assert!(text.contains("footfall_batch_rows_bucket{le=\"1\"} 0\n"));
        assert!(text.contains("footfall_batch_rows_count 1\n"));
    }
}
