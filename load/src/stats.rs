//! What a run measured: latency histograms, and the count of every request's outcome by
//! who sent it. Each connection keeps its own [`Tally`] (no sharing on the hot path); the
//! run merges them at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::traffic::{Class, InvalidKind};

/// Longest latency a histogram records exactly (longer ones are clamped to it): 60 s.
const MAX_RECORDED_MICROS: u64 = 60_000_000;

/// A latency histogram in microseconds, 3 significant digits (0.1% relative error).
#[derive(Debug, Clone)]
pub struct Latency {
    histogram: Histogram<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Self { histogram: Histogram::new_with_bounds(1, MAX_RECORDED_MICROS, 3).expect("valid histogram bounds") }
    }
}

impl Latency {
    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        let micros = (latency.as_micros() as u64).clamp(1, MAX_RECORDED_MICROS);
        self.histogram.record(micros).expect("value within bounds");
    }

    /// Adds another histogram's records.
    pub fn merge(&mut self, other: &Latency) {
        self.histogram.add(&other.histogram).expect("histograms share their bounds");
    }

    /// Number of latencies recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// p50, p90, p99, p99.9, max and mean, in milliseconds.
    pub fn percentiles(&self) -> Percentiles {
        let at = |quantile: f64| self.histogram.value_at_quantile(quantile) as f64 / 1000.0;
        Percentiles {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p999: at(0.999),
            max: self.histogram.max() as f64 / 1000.0,
            mean: self.histogram.mean() / 1000.0,
        }
    }
}

/// Latency percentiles in milliseconds (0 when nothing was recorded).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    #[serde(rename = "p99.9")]
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

/// Outcomes of valid events: one site's events from people, or all the bots' requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SiteTally {
    /// Sent.
    pub sent: u64,
    /// Answered 202: footfall promised to store these (for bots: and, by its contract,
    /// not to store them).
    pub acknowledged: u64,
    /// Answered 503: refused while the queue was full (footfall counts them as dropped).
    pub shed: u64,
    /// Sent, but no answer came (timeout or broken connection): stored or not, nobody knows.
    pub unknown: u64,
    /// Any other answer: a valid event refused, which is a bug (or a site not yet known).
    pub unexpected: u64,
}

impl SiteTally {
    /// Counts one sent request: its status, or no answer (`unknown`).
    fn count(&mut self, status: u16, unknown: bool) {
        self.sent += 1;
        match status {
            _ if unknown => self.unknown += 1,
            202 => self.acknowledged += 1,
            503 => self.shed += 1,
            _ => self.unexpected += 1,
        }
    }

    /// Adds another tally's counts.
    pub fn add(&mut self, other: &SiteTally) {
        self.sent += other.sent;
        self.acknowledged += other.acknowledged;
        self.shed += other.shed;
        self.unknown += other.unknown;
        self.unexpected += other.unexpected;
    }
}

/// Outcomes of one kind of invalid request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InvalidTally {
    pub sent: u64,
    /// Answered with the status the contract gives this kind.
    pub as_expected: u64,
    pub shed: u64,
    pub unknown: u64,
    pub unexpected: u64,
}

/// Everything one connection (or, merged, the whole run) counted.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// From the time each request was due (open loop) or sent (max): what a user waits.
    pub latency: Latency,
    /// From the time each request was actually written: the server's share alone.
    pub service: Latency,
    pub sites: Vec<SiteTally>,
    pub bots: SiteTally,
    pub invalid: BTreeMap<InvalidKind, InvalidTally>,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests not sent because no connection could be opened.
    pub connect_errors: u64,
    /// Requests sent that got no answer in time.
    pub timeouts: u64,
    /// Requests sent whose connection broke before the answer.
    pub broken: u64,
}

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An answer with this status.
    Status(u16),
    /// Never sent: the connection could not be opened.
    NotSent,
    /// Sent, no answer within the request timeout.
    TimedOut,
    /// Sent, the connection broke.
    Broken,
}

impl Tally {
    /// An empty tally for a run with `sites` sites.
    pub fn new(sites: usize) -> Self {
        Self { sites: vec![SiteTally::default(); sites], ..Self::default() }
    }

    /// Counts one request's outcome.
    pub fn count(&mut self, class: Class, outcome: Outcome) {
        match outcome {
            Outcome::Status(status) => *self.statuses.entry(status).or_default() += 1,
            Outcome::NotSent => self.connect_errors += 1,
            Outcome::TimedOut => self.timeouts += 1,
            Outcome::Broken => self.broken += 1,
        }
        if outcome == Outcome::NotSent {
            return;
        }
        let unknown = matches!(outcome, Outcome::TimedOut | Outcome::Broken);
        let status = match outcome {
            Outcome::Status(status) => status,
            _ => 0,
        };
        match class {
            Class::Human { site } => self.sites[site].count(status, unknown),
            Class::Bot => self.bots.count(status, unknown),
            Class::Invalid(kind) => {
                let tally = self.invalid.entry(kind).or_default();
                tally.sent += 1;
                match status {
                    _ if unknown => tally.unknown += 1,
                    503 => tally.shed += 1,
                    status if status == kind.expected_status() => tally.as_expected += 1,
                    _ => tally.unexpected += 1,
                }
            }
        }
    }

    /// Adds another tally (of a run with as many sites).
    pub fn merge(&mut self, other: &Tally) {
        self.latency.merge(&other.latency);
        self.service.merge(&other.service);
        for (mine, theirs) in self.sites.iter_mut().zip(&other.sites) {
            mine.add(theirs);
        }
        self.bots.add(&other.bots);
        for (kind, theirs) in &other.invalid {
            let mine = self.invalid.entry(*kind).or_default();
            mine.sent += theirs.sent;
            mine.as_expected += theirs.as_expected;
            mine.shed += theirs.shed;
            mine.unknown += theirs.unknown;
            mine.unexpected += theirs.unexpected;
        }
        for (status, count) in &other.statuses {
            *self.statuses.entry(*status).or_default() += count;
        }
        self.connect_errors += other.connect_errors;
        self.timeouts += other.timeouts;
        self.broken += other.broken;
    }

    /// Requests written to a connection.
    pub fn sent(&self) -> u64 {
        self.sites.iter().map(|s| s.sent).sum::<u64>()
            + self.bots.sent
            + self.invalid.values().map(|t| t.sent).sum::<u64>()
    }

    /// Requests that got an answer.
    pub fn answered(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Answers that contradict footfall's contract: a valid event refused with a 4xx or
    /// 5xx other than 503, a bot refused, or an invalid request not refused as it should be.
    pub fn unexpected(&self) -> u64 {
        self.sites.iter().map(|s| s.unexpected).sum::<u64>()
            + self.bots.unexpected
            + self.invalid.values().map(|t| t.unexpected).sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut latency = Latency::default();
        for micros in 1..=10_000u64 {
            latency.record(Duration::from_micros(micros));
        }
        let p = latency.percentiles();
        // 3 significant digits: each value within 0.1% of the exact one.
        let close = |value: f64, exact: f64| (value - exact).abs() <= exact * 0.001 + 0.001;
        assert!(close(p.p50, 5.0), "{p:?}");
        assert!(close(p.p90, 9.0), "{p:?}");
        assert!(close(p.p99, 9.9), "{p:?}");
        assert!(close(p.p999, 9.99), "{p:?}");
        assert!(close(p.max, 10.0), "{p:?}");
        assert!(close(p.mean, 5.0005), "{p:?}");
        assert_eq!(latency.count(), 10_000);
    }

    #[test]
    fn a_stall_shows_in_the_tail_and_merging_keeps_every_record() {
        let mut fast = Latency::default();
        for _ in 0..990 {
            fast.record(Duration::from_micros(200));
        }
        let mut stalled = Latency::default();
        for _ in 0..10 {
            stalled.record(Duration::from_millis(900));
        }
        fast.merge(&stalled);
        let p = fast.percentiles();
        assert_eq!(fast.count(), 1000);
        assert!((p.p50 - 0.2).abs() < 0.001 && (p.p90 - 0.2).abs() < 0.001, "{p:?}");
        assert!((p.p999 - 900.0).abs() < 1.0, "{p:?}");
        // Out-of-range values are clamped, not lost.
        fast.record(Duration::from_secs(3600));
        assert_eq!(fast.count(), 1001);
        assert!((fast.percentiles().max - 60_000.0).abs() < 60.0);
    }

    #[test]
    fn outcomes_are_counted_by_class() {
        let mut tally = Tally::new(2);
        tally.count(Class::Human { site: 1 }, Outcome::Status(202));
        tally.count(Class::Human { site: 1 }, Outcome::Status(503));
        tally.count(Class::Human { site: 1 }, Outcome::TimedOut);
        tally.count(Class::Human { site: 0 }, Outcome::Status(404));
        tally.count(Class::Human { site: 0 }, Outcome::NotSent);
        tally.count(Class::Bot, Outcome::Status(202));
        tally.count(Class::Invalid(InvalidKind::UnknownSite), Outcome::Status(404));
        tally.count(Class::Invalid(InvalidKind::WrongContentType), Outcome::Status(202));
        tally.count(Class::Invalid(InvalidKind::WrongContentType), Outcome::Broken);
        assert_eq!(
            tally.sites,
            vec![
                SiteTally { sent: 1, unexpected: 1, ..SiteTally::default() },
                SiteTally { sent: 3, acknowledged: 1, shed: 1, unknown: 1, unexpected: 0 },
            ]
        );
        assert_eq!(tally.bots, SiteTally { sent: 1, acknowledged: 1, ..SiteTally::default() });
        assert_eq!(tally.invalid[&InvalidKind::UnknownSite].as_expected, 1);
        assert_eq!(
            tally.invalid[&InvalidKind::WrongContentType],
            InvalidTally { sent: 2, unexpected: 1, unknown: 1, ..InvalidTally::default() }
        );
        assert_eq!(tally.statuses, BTreeMap::from([(202, 3), (404, 2), (503, 1)]));
        assert_eq!((tally.connect_errors, tally.timeouts, tally.broken), (1, 1, 1));
        assert_eq!(tally.sent(), 8);
        assert_eq!(tally.answered(), 6);
        assert_eq!(tally.unexpected(), 2);

        let mut total = Tally::new(2);
        total.merge(&tally);
        total.merge(&tally);
        assert_eq!(total.sites[1].acknowledged, 2);
        assert_eq!(total.sent(), 16);
        assert_eq!(total.statuses[&202], 6);
        assert_eq!(total.invalid[&InvalidKind::WrongContentType].sent, 4);
    }
}
