//! `store`'s own error: what went wrong talking to ClickHouse, in the classes its callers
//! decide on (the writer's retry policy, `/readyz`, report answers), independent of the
//! `clickhouse` crate's variants and of the HTTP stack under it. The one place that
//! reads the crate's error is the `From` conversion below, so a crate upgrade that
//! reshapes its error can only break this file, never silently reclassify a failure.

/// A failed ClickHouse statement.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// ClickHouse answered with an exception: its code (`Code: N` in the message, when it
    /// has one) and its text.
    #[error("ClickHouse refused the statement: {message}")]
    Server { code: Option<u32>, message: String },
    /// No connection could be made: nothing was sent.
    #[error("cannot connect to ClickHouse: {0}")]
    Connect(String),
    /// The request timed out or its connection broke after it was sent: it may have been
    /// applied.
    #[error("ClickHouse did not answer (timeout or broken connection): {0}")]
    Transport(String),
    /// Rows footfall could not encode or decode: the data or a row type is at fault, and
    /// trying again cannot help.
    #[error("rows do not fit the statement: {0}")]
    Rows(String),
    /// Anything else the client reported (compression, an unexpected answer).
    #[error("ClickHouse client error: {0}")]
    Other(String),
}

impl StoreError {
    /// The ClickHouse error code, when ClickHouse answered with one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Server { code, .. } => *code,
            _ => None,
        }
    }
}

impl From<clickhouse::error::Error> for StoreError {
    fn from(error: clickhouse::error::Error) -> Self {
        use clickhouse::error::Error;
        match error {
            Error::BadResponse(message) => Self::Server { code: error_code(&message), message },
            Error::Network(source) => {
                let never_connected = source
                    .downcast_ref::<hyper_util::client::legacy::Error>()
                    .is_some_and(hyper_util::client::legacy::Error::is_connect);
                if never_connected {
                    Self::Connect(source.to_string())
                } else {
                    Self::Transport(source.to_string())
                }
            }
            Error::TimedOut => Self::Transport(error.to_string()),
            Error::Custom(_)
            | Error::SequenceMustHaveLength
            | Error::InvalidUtf8Encoding(_)
            | Error::InvalidTagEncoding(_)
            | Error::VariantDiscriminatorIsOutOfBound(_) => Self::Rows(error.to_string()),
            other => Self::Other(other.to_string()),
        }
    }
}

/// The `N` of `Code: N.` in a ClickHouse exception message.
fn error_code(message: &str) -> Option<u32> {
    let rest = &message[message.find("Code: ")? + "Code: ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_keep_their_code_and_text() {
        let error = StoreError::from(clickhouse::error::Error::BadResponse(
            "Code: 53, e.displayText() = DB::Exception: Type mismatch".into(),
        ));
        assert_eq!(error.code(), Some(53));
        assert!(error.to_string().contains("Type mismatch"));
        let no_code = StoreError::from(clickhouse::error::Error::BadResponse("something odd".into()));
        assert_eq!(no_code.code(), None);
    }

    #[test]
    fn encoding_failures_are_the_rows_fault_and_timeouts_the_transports() {
        assert!(matches!(StoreError::from(clickhouse::error::Error::Custom("x".into())), StoreError::Rows(_)));
        assert!(matches!(StoreError::from(clickhouse::error::Error::TimedOut), StoreError::Transport(_)));
    }
}
