//! Why intake refused a request, and how each reason maps to an HTTP status and a JSON
//! body `{"error": "...", "field": "..."}` (one place for the mapping).

use crate::api::ErrorBody;
use crate::metrics::RejectReason;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// An intake failure. Messages never repeat the client's IP, user agent or cookie id.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("Content-Type must be application/json or text/plain")]
    UnsupportedMediaType,
    #[error("body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("could not read the request body")]
    BodyRead,
    #[error("the request body did not arrive within {limit_ms} ms; send it at once")]
    BodyTimeout { limit_ms: u64 },
    #[error("{problem}")]
    MalformedJson { problem: String },
    #[error("{problem}")]
    InvalidField { field: String, problem: String },
    #[error("site `{site}` is not registered with this collector")]
    UnknownSite { field: String, site: String },
    #[error("{what} host `{host}` does not belong to site `{site}`")]
    ForeignOrigin { field: String, what: &'static str, host: String, site: String },
    #[error("site `{site}` counts only visitors who consented; the event must carry \"consent\": true")]
    NoConsent { field: String, site: String },
    #[error("{problem}")]
    BatchSize { problem: String },
    #[error("too many requests from this client; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the collector is overloaded; retry later")]
    QueueFull,
    #[error("the collector cannot take this now; retry later ({reason})")]
    Unavailable { reason: String },
}

impl IngestError {
    /// The metric label this failure is counted under; `None` for failures that are
    /// counted as drops, not rejections.
    pub fn reject_reason(&self) -> Option<RejectReason> {
        Some(match self {
            Self::UnsupportedMediaType => RejectReason::UnsupportedMediaType,
            Self::BodyTooLarge { .. } => RejectReason::BodyTooLarge,
            Self::BodyRead | Self::MalformedJson { .. } => RejectReason::MalformedJson,
            Self::BodyTimeout { .. } => RejectReason::BodyTimeout,
            Self::InvalidField { .. } => RejectReason::InvalidField,
            Self::UnknownSite { .. } => RejectReason::UnknownSite,
            Self::ForeignOrigin { .. } => RejectReason::ForeignOrigin,
            Self::NoConsent { .. } => RejectReason::NoConsent,
            Self::BatchSize { .. } => RejectReason::BatchSize,
            Self::RateLimited { .. } => RejectReason::RateLimited,
            Self::QueueFull | Self::Unavailable { .. } => return None,
        })
    }

    /// The payload field (or header) the failure is about.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::UnsupportedMediaType => Some("Content-Type"),
            Self::BodyTooLarge { .. } | Self::BodyRead | Self::BodyTimeout { .. } | Self::MalformedJson { .. } => {
                Some("body")
            }
            Self::InvalidField { field, .. }
            | Self::UnknownSite { field, .. }
            | Self::ForeignOrigin { field, .. }
            | Self::NoConsent { field, .. } => Some(field),
            Self::BatchSize { .. } => Some("body"),
            Self::RateLimited { .. } => None,
            Self::QueueFull | Self::Unavailable { .. } => None,
        }
    }
}

impl ResponseError for IngestError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::BodyRead | Self::MalformedJson { .. } | Self::InvalidField { .. } | Self::BatchSize { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::UnknownSite { .. } => StatusCode::NOT_FOUND,
            Self::ForeignOrigin { .. } | Self::NoConsent { .. } => StatusCode::FORBIDDEN,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::QueueFull | Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::QueueFull | Self::Unavailable { .. } => {
                response.insert_header(("Retry-After", "1"));
            }
            Self::RateLimited { retry_after_secs } => {
                response.insert_header(("Retry-After", retry_after_secs.to_string()));
            }
            _ => {}
        }
        response.json(ErrorBody { error: self.to_string(), field: self.field().map(str::to_owned) })
    }
}
