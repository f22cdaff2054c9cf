//! When each request of an open-loop run is due.
//!
//! Open loop means requests are due at times fixed in advance, whatever the server does:
//! request number `i` is due at [`Pace::due_at`]`(i)`, connections take numbers in turn
//! from one counter, wait until the number's time comes and send. When the server (or the
//! generator) falls behind, requests go out late and their latency is still measured from
//! the time they were due, so a stall shows up in the percentiles instead of silently
//! lowering the rate: no coordinated omission.
//!
//! Paces: a constant rate; a diurnal shape (one compressed day over the run, mean rate as
//! given, four times as much traffic at the afternoon peak as at the night trough); and
//! [`Pace::Max`], where every connection sends its next request as soon as the previous
//! one was answered (a closed loop, to find the maximum throughput).

use std::f64::consts::TAU;
use std::time::Duration;

/// Relative swing of the diurnal shape: rate between (1 - A) and (1 + A) times the mean.
const DIURNAL_AMPLITUDE: f64 = 0.6;
/// Hour of the day (of the compressed day) with the most traffic.
const DIURNAL_PEAK_HOUR: f64 = 15.0;

/// How fast requests are sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// Each connection sends as soon as its previous request was answered.
    Max,
    /// `rate` requests per second.
    Constant { rate: f64 },
    /// A day compressed into `span`: midnight at the start, the peak at 15:00, with a mean of
    /// `mean_rate` requests per second.
    Diurnal { mean_rate: f64, span: Duration },
}

impl Pace {
    /// Requests due in the first `t` seconds (the integral of the rate), for paced runs.
    pub fn expected_by(&self, t: f64) -> f64 {
        match *self {
            Pace::Max => f64::INFINITY,
            Pace::Constant { rate } => rate * t,
            Pace::Diurnal { mean_rate, span } => {
                let span = span.as_secs_f64();
                let phase = |t: f64| TAU * (t / span - DIURNAL_PEAK_HOUR / 24.0);
                mean_rate * (t + DIURNAL_AMPLITUDE * span / TAU * (phase(t).sin() - phase(0.0).sin()))
            }
        }
    }

    /// The rate at `t` seconds into the run.
    pub fn rate_at(&self, t: f64) -> f64 {
        match *self {
            Pace::Max => f64::INFINITY,
            Pace::Constant { rate } => rate,
            Pace::Diurnal { mean_rate, span } => {
                mean_rate
                    * (1.0 + DIURNAL_AMPLITUDE * (TAU * (t / span.as_secs_f64() - DIURNAL_PEAK_HOUR / 24.0)).cos())
            }
        }
    }

    /// When request number `index` (from 0) is due, as an offset from the start; `None`
    /// for [`Pace::Max`] (always due now) and past `within`.
    pub fn due_at(&self, index: u64, within: Duration) -> Option<Duration> {
        let target = index as f64;
        let limit = within.as_secs_f64();
        if self.expected_by(limit) <= target {
            return None;
        }
        let seconds = match *self {
            Pace::Max => return None,
            Pace::Constant { rate } => target / rate,
            // expected_by is strictly increasing (amplitude < 1): bisect.
            Pace::Diurnal { .. } => {
                let (mut low, mut high) = (0.0, limit);
                for _ in 0..64 {
                    let middle = (low + high) / 2.0;
                    if self.expected_by(middle) < target {
                        low = middle;
                    } else {
                        high = middle;
                    }
                }
                high
            }
        };
        (seconds < limit).then(|| Duration::from_secs_f64(seconds))
    }

    /// How many requests are due within `within` (those [`Pace::due_at`] gives a time for).
    pub fn due_within(&self, within: Duration) -> u64 {
        match self {
            Pace::Max => 0,
            // Tolerate the rounding of the diurnal integral (a whole day is exactly mean x span).
            _ => (self.expected_by(within.as_secs_f64()) - 1e-6).ceil() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_spaces_requests_evenly() {
        let pace = Pace::Constant { rate: 1000.0 };
        let within = Duration::from_secs(2);
        assert_eq!(pace.due_at(0, within), Some(Duration::ZERO));
        assert_eq!(pace.due_at(1, within), Some(Duration::from_millis(1)));
        assert_eq!(pace.due_at(1999, within), Some(Duration::from_millis(1999)));
        assert_eq!(pace.due_at(2000, within), None);
        assert_eq!(pace.due_within(within), 2000);
        assert_eq!(Pace::Constant { rate: 3.0 }.due_within(Duration::from_secs(1)), 3);
        assert_eq!(Pace::Constant { rate: 2.5 }.due_within(Duration::from_secs(1)), 3);
    }

    #[test]
    fn max_pace_has_no_schedule() {
        assert_eq!(Pace::Max.due_at(0, Duration::from_secs(1)), None);
        assert_eq!(Pace::Max.due_within(Duration::from_secs(1)), 0);
    }

    #[test]
    fn diurnal_day_has_the_mean_rate_and_its_peak_in_the_afternoon() {
        let span = Duration::from_secs(240); // one "hour" is 10 s
        let pace = Pace::Diurnal { mean_rate: 100.0, span };
        assert_eq!(pace.due_within(span), 24_000);
        let peak = pace.rate_at(150.0);
        let trough = pace.rate_at(30.0);
        assert!((peak - 160.0).abs() < 1e-9 && (trough - 40.0).abs() < 1e-9, "{peak} {trough}");
        // The afternoon (12:00-18:00) carries more than the night (00:00-06:00).
        let between = |from: f64, to: f64| pace.expected_by(to) - pace.expected_by(from);
        assert!(between(120.0, 180.0) > 2.5 * between(0.0, 60.0));
    }

    #[test]
    fn diurnal_due_times_invert_the_cumulative_rate() {
        let span = Duration::from_secs(60);
        let pace = Pace::Diurnal { mean_rate: 50.0, span };
        let mut previous = Duration::ZERO;
        for index in [0u64, 1, 10, 100, 1000, 2999] {
            let due = pace.due_at(index, span).unwrap();
            assert!((pace.expected_by(due.as_secs_f64()) - index as f64).abs() < 1e-6, "{index}");
            assert!(due >= previous);
            previous = due;
        }
        assert_eq!(pace.due_at(3000, span), None);
    }
}
