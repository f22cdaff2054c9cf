//! The final report of a run: built from what the run counted and what verification found,
//! printed for people or as JSON (`--json`), with the verdict that sets the exit status.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::driver::Outcomes;
use crate::stats::{InvalidTally, Percentiles, SiteTally};
use crate::traffic::InvalidKind;
use crate::verify::{CollectorCounters, Verification};

/// How the run was set up.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub target: String,
    /// `rate`, `diurnal` or `max`.
    pub mode: &'static str,
    /// Requests per second asked for (the mean for `diurnal`); none at max pace.
    pub rate: Option<f64>,
    pub connections: usize,
    pub duration_secs: f64,
    pub seed: u64,
    pub run_id: String,
    /// The database verified, when verification was on.
    pub database: Option<String>,
}

/// Request counts of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Requests {
    /// Due within the duration (paced runs).
    pub due: Option<u64>,
    pub sent: u64,
    pub answered: u64,
    /// Due but never sent: the run fell behind its rate.
    pub unsent: u64,
    /// Not sent: no connection could be opened.
    pub connect_errors: u64,
    /// Sent, no answer within the request timeout.
    pub timeouts: u64,
    /// Sent, the connection broke before the answer.
    pub broken: u64,
    /// Answers that contradict footfall's contract (meaningful when the target is footfall).
    pub unexpected: u64,
    pub elapsed_secs: f64,
    /// Answers per second over the run (one event per request).
    pub throughput: f64,
}

/// Requests by who sent them.
#[derive(Debug, Clone, Serialize)]
pub struct Traffic {
    pub human: SiteTally,
    pub bot: SiteTally,
    pub invalid: BTreeMap<InvalidKind, InvalidTally>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub setup: Setup,
    pub requests: Requests,
    pub traffic: Traffic,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// From the time each request was due (open loop) or sent (max pace).
    pub latency_ms: Percentiles,
    /// From the time each request was written to the connection.
    pub service_ms: Percentiles,
    /// How footfall's counters moved over the run (when verification was on).
    pub collector: Option<CollectorCounters>,
    pub verification: Option<Verification>,
    /// `pass`, `fail`, or `unverified` (verification off).
    pub verdict: &'static str,
    /// Why the verdict is `fail`.
    pub problems: Vec<String>,
}

impl Report {
    /// Puts the report together and decides the verdict: `fail` when verification found
    /// missing or extra rows, or (with verification on) any answer broke the contract.
    pub fn new(
        setup: Setup,
        outcomes: &Outcomes,
        site_names: &[String],
        collector: Option<CollectorCounters>,
        verification: Option<Verification>,
    ) -> Self {
        let tally = &outcomes.tally;
        let human = tally.sites.iter().fold(SiteTally::default(), |mut sum, site| {
            sum.add(site);
            sum
        });
        let answered = tally.answered();
        let elapsed = outcomes.elapsed.as_secs_f64();
        let mut problems = Vec::new();
        if let Some(verification) = &verification {
            if verification.missing > 0 {
                problems.push(format!("{} acknowledged events are missing from ClickHouse", verification.missing));
            }
            if verification.extra > 0 {
                problems.push(format!("{} rows more than acknowledged (duplicates)", verification.extra));
            }
            for (index, site) in tally.sites.iter().enumerate() {
                if site.unexpected > 0 {
                    problems.push(format!("{} valid events for {} were refused", site.unexpected, site_names[index]));
                }
            }
            if tally.bots.unexpected > 0 {
                problems.push(format!("{} bot events were not answered 202", tally.bots.unexpected));
            }
            for (kind, invalid) in &tally.invalid {
                if invalid.unexpected > 0 {
                    problems.push(format!(
                        "{} {kind:?} requests were not answered {}",
                        invalid.unexpected,
                        kind.expected_status()
                    ));
                }
            }
        }
        let verdict = match (&verification, problems.is_empty()) {
            (None, _) => "unverified",
            (Some(_), true) => "pass",
            (Some(_), false) => "fail",
        };
        Self {
            requests: Requests {
                due: (setup.mode != "max").then_some(outcomes.due),
                sent: tally.sent(),
                answered,
                unsent: outcomes.unsent,
                connect_errors: tally.connect_errors,
                timeouts: tally.timeouts,
                broken: tally.broken,
                unexpected: tally.unexpected(),
                elapsed_secs: elapsed,
                throughput: if elapsed > 0.0 { answered as f64 / elapsed } else { 0.0 },
            },
            setup,
            traffic: Traffic { human, bot: tally.bots, invalid: tally.invalid.clone() },
            statuses: tally.statuses.clone(),
            latency_ms: tally.latency.percentiles(),
            service_ms: tally.service.percentiles(),
            collector,
            verification,
            verdict,
            problems,
        }
    }

    /// True unless the verdict is `fail`.
    pub fn passed(&self) -> bool {
        self.verdict != "fail"
    }

    /// The report as people read it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let setup = &self.setup;
        let pace = match setup.rate {
            Some(rate) if setup.mode == "diurnal" => format!("open loop, diurnal day around {rate} req/s"),
            Some(rate) => format!("open loop at {rate} req/s"),
            None => "max throughput (closed loop)".to_string(),
        };
        let _ = writeln!(
            out,
            "footfall-load -> {}: {pace}, {} connections, {} s, seed {}, run {}",
            setup.target, setup.connections, setup.duration_secs, setup.seed, setup.run_id
        );
        let r = &self.requests;
        let _ = writeln!(
            out,
            "requests   {} sent, {} answered in {:.2} s = {:.0} req/s",
            r.sent, r.answered, r.elapsed_secs, r.throughput
        );
        if let Some(due) = r.due {
            let _ = writeln!(
                out,
                "           {due} due, {} not sent by the end (more than 0: the rate was not sustained)",
                r.unsent
            );
        }
        let _ = write!(
            out,
            "failures   {} connect errors, {} timeouts, {} broken connections",
            r.connect_errors, r.timeouts, r.broken
        );
        // Without verification the target may not be footfall, whose contract this counts.
        let _ = match self.verification {
            Some(_) => writeln!(out, ", {} answers against the contract", r.unexpected),
            None => writeln!(out),
        };
        let t = &self.traffic;
        let invalid_sent: u64 = t.invalid.values().map(|i| i.sent).sum();
        let invalid_expected: u64 = t.invalid.values().map(|i| i.as_expected).sum();
        let _ = writeln!(
            out,
            "traffic    people {} (202: {}, 503: {}), bots {} (202: {}), invalid {} (refused as expected: {})",
            t.human.sent,
            t.human.acknowledged,
            t.human.shed,
            t.bot.sent,
            t.bot.acknowledged,
            invalid_sent,
            invalid_expected
        );
        let statuses: Vec<String> = self.statuses.iter().map(|(status, count)| format!("{status}: {count}")).collect();
        let _ = writeln!(out, "statuses   {}", statuses.join(", "));
        let percentiles = |p: &Percentiles| {
            format!(
                "p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms",
                p.p50, p.p90, p.p99, p.p999, p.max
            )
        };
        let _ = writeln!(out, "latency    {}  (from the due time)", percentiles(&self.latency_ms));
        let _ = writeln!(out, "service    {}  (from the send time)", percentiles(&self.service_ms));
        if let Some(c) = &self.collector {
            let _ = writeln!(
                out,
                "collector  accepted +{}, stored +{}, bots +{}, rejected +{}, dropped: queue full +{}, quarantined +{}",
                c.accepted, c.stored, c.bot, c.rejected, c.dropped_queue_full, c.dropped_quarantined
            );
        }
        if let Some(v) = &self.verification {
            let _ = writeln!(
                out,
                "stored     {:<36} {:>12} {:>10} {:>10} {:>8} {:>6}",
                "site", "acknowledged", "no answer", "rows", "missing", "extra"
            );
            for s in &v.sites {
                let _ = writeln!(
                    out,
                    "           {:<36} {:>12} {:>10} {:>10} {:>8} {:>6}",
                    s.site, s.acknowledged, s.unknown, s.stored, s.missing, s.extra
                );
            }
        }
        let _ = match self.verdict {
            "pass" => writeln!(
                out,
                "verdict    PASS: zero loss, every acknowledged event is in ClickHouse exactly once ({} rows)",
                self.verification.as_ref().map_or(0, |v| v.stored)
            ),
            "fail" => writeln!(out, "verdict    FAIL: {}", self.problems.join("; ")),
            _ => writeln!(out, "verdict    not verified (--no-verify)"),
        };
        out
    }
}
