//! Why a report request failed, and how each reason maps to an HTTP status and a JSON
//! body `{"error": "...", "field": "..."}` (one place for the mapping).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::api::ErrorBody;

/// A report failure. Messages never contain a token.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("send `Authorization: Bearer <token>` with the admin token or a report token for this site")]
    MissingToken,
    #[error("the bearer token is not valid (unknown, revoked or mistyped)")]
    UnknownToken,
    #[error(
        "too many wrong tokens from this client; wait {retry_after_secs} s (Retry-After), then send a valid token"
    )]
    TooManyWrongTokens { retry_after_secs: u64 },
    #[error("this token may read the reports of another site only")]
    OtherSite,
    #[error("`{site}` is not a valid site domain")]
    InvalidSite { site: String },
    #[error("site `{site}` is not registered with this collector")]
    UnknownSite { site: String },
    #[error("there is no report `{name}`; reports are {}", super::ReportName::list())]
    UnknownReport { name: String },
    #[error("{problem}")]
    InvalidParameter { field: String, problem: String },
    /// Small-count protection: the request's filters match fewer than `min_visitors`
    /// visitors. The answer is the same for 0 matching visitors as for `min_visitors - 1`.
    #[error(
        "fewer than {min_visitors} visitors match this filter (`{field}`) in the range; counts this small are \
         not shown (`reports.min_visitors`), so widen the filter or the range"
    )]
    TooFewVisitors {
        /// The filters of the request, comma-separated in their order (`path`, `country,event`).
        field: String,
        min_visitors: u64,
    },
    /// The request's token is a share link that locks filters (`footfall share create
    /// --filter`), and the request gives one of them another value, or asks a report
    /// the locked filters cannot narrow.
    #[error("{problem}")]
    LockedFilter { field: String, problem: String },
    #[error("reports are unavailable: ClickHouse did not answer; retry later")]
    Store(#[from] crate::store::StoreError),
}

impl From<crate::auth::UnknownToken> for ReportError {
    fn from(_: crate::auth::UnknownToken) -> Self {
        Self::UnknownToken
    }
}

impl ReportError {
    /// The parameter or header the failure is about.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::MissingToken | Self::UnknownToken | Self::TooManyWrongTokens { .. } | Self::OtherSite => {
                Some("Authorization")
            }
            Self::InvalidSite { .. } | Self::UnknownSite { .. } => Some("site"),
            Self::UnknownReport { .. } => Some("report"),
            Self::InvalidParameter { field, .. }
            | Self::TooFewVisitors { field, .. }
            | Self::LockedFilter { field, .. } => Some(field),
            Self::Store(_) => None,
        }
    }
}

impl ResponseError for ReportError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::UnknownToken => StatusCode::UNAUTHORIZED,
            Self::TooManyWrongTokens { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::OtherSite | Self::TooFewVisitors { .. } | Self::LockedFilter { .. } => StatusCode::FORBIDDEN,
            Self::InvalidSite { .. } | Self::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            Self::UnknownSite { .. } | Self::UnknownReport { .. } => StatusCode::NOT_FOUND,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, Self::MissingToken | Self::UnknownToken) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"footfall reports\""));
        }
        if let Self::TooManyWrongTokens { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, *retry_after_secs));
        }
        if let Self::Store(error) = self {
            tracing::warn!(%error, "a report query failed");
        }
        response.json(ErrorBody { error: self.to_string(), field: self.field().map(str::to_owned) })
    }
}
