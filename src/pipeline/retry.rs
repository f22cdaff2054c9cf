//! Which ClickHouse failures are worth retrying, and how long to wait between tries.
//!
//! Transient failures (network, timeouts, too many parts, memory limits, a server that
//! is restarting, a table that is missing for a moment) are retried with exponential
//! backoff and jitter, keeping the batch. Failures caused by the data itself (type
//! mismatch, unparsable values, `Code: 53`, `Code: 117`, ...) would fail forever: the
//! writer isolates the offending rows and quarantines them instead.

use std::time::Duration;

#[cfg(test)]
use crate::store::EventRow;
use crate::store::StoreError;

/// ClickHouse error codes that mean "this data can never be inserted".
const DATA_ERROR_CODES: &[u32] = &[
    6,   // CANNOT_PARSE_TEXT
    26,  // CANNOT_PARSE_QUOTED_STRING
    27,  // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    32,  // ATTEMPT_TO_READ_AFTER_EOF
    33,  // CANNOT_READ_ALL_DATA
    38,  // CANNOT_PARSE_DATE
    41,  // CANNOT_PARSE_DATETIME
    53,  // TYPE_MISMATCH
    69,  // ARGUMENT_OUT_OF_BOUND
    70,  // CANNOT_CONVERT_TYPE
    72,  // CANNOT_PARSE_NUMBER
    117, // INCORRECT_DATA
    131, // TOO_LARGE_STRING_SIZE
    395, // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO: a throwIf() check in the schema refused the row
];

/// What to do about a failed insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Keep the rows and try again later. `maybe_stored` is false only when the rows
    /// certainly never reached ClickHouse (the connection could not be made); otherwise
    /// the next attempt first asks which of them are stored.
    Transient { maybe_stored: bool },
    /// The rows are at fault: find and quarantine them.
    Data,
}

/// Classifies a failed insert by `store`'s error class and ClickHouse's error code.
pub fn classify(error: &StoreError) -> FailureKind {
    match error {
        StoreError::Server { code: Some(code), .. } if DATA_ERROR_CODES.contains(code) => FailureKind::Data,
        StoreError::Rows(_) => FailureKind::Data,
        StoreError::Connect(_) => FailureKind::Transient { maybe_stored: false },
        StoreError::Server { .. } | StoreError::Transport(_) | StoreError::Other(_) => {
            FailureKind::Transient { maybe_stored: true }
        }
    }
}

/// Exponential backoff with jitter: `initial * 2^attempt`, capped at `max`, then scaled
/// by a random factor in [0.5, 1.0) so that many collectors do not retry in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// The backoff `pipeline.retry_*_backoff_ms` configure.
    pub fn from_settings(settings: &crate::config::PipelineSettings) -> Self {
        Self::new(
            Duration::from_millis(settings.retry_initial_backoff_ms),
            Duration::from_millis(settings.retry_max_backoff_ms),
        )
    }

    /// A backoff starting at `initial` and never exceeding `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max, attempt: 0 }
    }

    /// The delay before the next try.
    pub fn next_delay(&mut self) -> Duration {
        let exponential = self.initial.saturating_mul(1u32 << self.attempt.min(20)).min(self.max);
        self.attempt += 1;
        let mut random = [0u8; 2];
        let _ = getrandom::fill(&mut random);
        let factor = 0.5 + f64::from(u16::from_le_bytes(random)) / f64::from(u16::MAX) / 2.0;
        exponential.mul_f64(factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_are_not_retried() {
        let server =
            |code: u32| StoreError::Server { code: Some(code), message: format!("Code: {code}. DB::Exception") };
        assert_eq!(classify(&server(53)), FailureKind::Data);
        assert_eq!(classify(&server(117)), FailureKind::Data);
        assert_eq!(classify(&StoreError::Rows("a string too long".into())), FailureKind::Data);
    }

    #[test]
    fn server_trouble_is_retried() {
        let parts = StoreError::Server { code: Some(252), message: "Too many parts".into() };
        assert_eq!(classify(&parts), FailureKind::Transient { maybe_stored: true });
        let missing_table = StoreError::Server { code: Some(60), message: "Table x.events doesn't exist".into() };
        assert_eq!(classify(&missing_table), FailureKind::Transient { maybe_stored: true });
        let timeout = StoreError::Transport("timeout expired".into());
        assert_eq!(classify(&timeout), FailureKind::Transient { maybe_stored: true });
    }

    #[tokio::test]
    async fn a_refused_connection_certainly_stored_nothing() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let settings = crate::config::ClickHouseSettings {
            url: format!("http://127.0.0.1:{port}"),
            ..crate::config::ClickHouseSettings::default()
        };
        let error = crate::store::Store::new(&settings).insert_events(&[EventRow::default()]).await.unwrap_err();
        assert_eq!(classify(&error), FailureKind::Transient { maybe_stored: false }, "{error:?}");
    }

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let first = backoff.next_delay();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100), "{first:?}");
        let delays: Vec<Duration> = (0..10).map(|_| backoff.next_delay()).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(1000)));
        assert!(delays.last().unwrap() >= &Duration::from_millis(500));
    }
}
