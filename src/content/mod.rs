//! The content registry: the pages a site has published, each with its path, publish time
//! and title, registered ahead of any view, so that content-discovery can know a page
//! nobody has found yet and when it was published. Two doors, one rule:
//!
//! - `footfall content import --site S SOURCE` (`cli`) calls [`import`]: [`source`] reads
//!   a file or an http(s) URL, [`feed`] reads the sitemap, RSS or Atom document in it;
//! - `POST /api/v1/sites/{site}/content` (the admin token) takes a JSON array of
//!   `{path, published, title}`.
//!
//! Either way every entry is checked into a [`Page`] first (its URL or path reduced as
//! intake reduces page URLs, on the site's hosts), and only when all are valid are they
//! registered, in one INSERT ([`register`]): a bad entry is reported with its line and
//! column (feeds) or array index (API), and nothing is stored. Re-imports are
//! idempotent and the earliest publish time of a page wins; `store::content` keeps the
//! rows and reads them back (`Store::registered_pages`). Holds no visitor data.

pub mod feed;
mod page;
pub mod source;

use std::collections::btree_map::{BTreeMap, Entry as MapEntry};
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use self::feed::{Feed, FeedError, Format};
use self::source::SourceError;
use crate::api::ErrorBody;
use crate::auth::Grant;
use crate::reports::Reports;
use crate::sites::{Domain, SiteEntry};
use crate::store::{Store, StoreError};
pub use page::{Page, PageError, Part, MAX_TITLE_CHARS};

/// Largest request body of `POST /api/v1/sites/{site}/content`, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What registering a batch of pages did, per distinct path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Registration {
    /// Distinct pages registered (entries whose paths are equal count once).
    pub pages: usize,
    /// Pages not registered before.
    pub new: usize,
    /// Pages registered before with a later publish time, which this one replaces.
    pub moved_earlier: usize,
    /// Pages registered before with an earlier publish time, which stays.
    pub earlier_kept: usize,
    /// Pages registered before with the same publish time.
    pub unchanged: usize,
}

/// Registers `pages` of `site`, one INSERT for all: each distinct path once, with its
/// earliest publish time in `pages` (and that entry's title, or another's when it has
/// none). The counts compare with what the registry held just before.
///
/// # Errors
/// ClickHouse unreachable or refusing; the INSERT then stored nothing, or (a connection
/// broken after it was sent) possibly everything: registering again is safe.
pub async fn register(store: &Store, site: &str, pages: Vec<Page>) -> Result<Registration, StoreError> {
    let mut by_path: BTreeMap<String, Page> = BTreeMap::new();
    for page in pages {
        match by_path.entry(page.path().to_string()) {
            MapEntry::Vacant(slot) => {
                slot.insert(page);
            }
            MapEntry::Occupied(mut slot) => slot.get_mut().merge(page),
        }
    }
    let registered = store.publish_times(site).await?;
    let mut counts = Registration { pages: by_path.len(), ..Registration::default() };
    for page in by_path.values() {
        match registered.get(page.path()) {
            None => counts.new += 1,
            Some(earlier) if *earlier < page.published() => counts.earlier_kept += 1,
            Some(later) if *later > page.published() => counts.moved_earlier += 1,
            Some(_) => counts.unchanged += 1,
        }
    }
    let pages: Vec<Page> = by_path.into_values().collect();
    store.register_pages(site, &pages).await?;
    Ok(counts)
}

/// What `footfall content import` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub format: Format,
    pub registration: Registration,
    /// Entries skipped for having no date.
    pub undated: usize,
    /// Entries skipped for having no link.
    pub unlinked: usize,
}

/// The summary the command prints.
impl fmt::Display for Import {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Registration { pages, new, moved_earlier, earlier_kept, unchanged } = &self.registration;
        write!(
            f,
            "imported {pages} page(s) from {} {}: {new} new, {moved_earlier} moved to an earlier publish time, \
             {earlier_kept} kept their earlier publish time, {unchanged} unchanged",
            self.format.article(),
            self.format
        )?;
        if self.undated + self.unlinked > 0 {
            write!(f, "; skipped {} entries without a date, {} without a link", self.undated, self.unlinked)?;
        }
        Ok(())
    }
}

/// Why `footfall content import` imported nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}; nothing was imported")]
    Source(SourceError),
    #[error("{location}, {error}; nothing was imported")]
    Document { location: String, error: FeedError },
    #[error("registering the pages failed ({0}); run the import again")]
    Store(StoreError),
}

/// Reads the sitemap or feed at `source` (a file or an http(s) URL) and registers its
/// pages for `site`, all or none.
///
/// # Errors
/// The source unreadable, the document malformed or an entry invalid (naming its line
/// and column): nothing is registered. ClickHouse failing.
pub async fn import(store: &Store, site: &SiteEntry, source: &str) -> Result<Import, ImportError> {
    let text = source::read(source).await.map_err(ImportError::Source)?;
    let document_error = |error| ImportError::Document { location: source.to_string(), error };
    let feed = feed::parse(&text).map_err(document_error)?;
    let pages = pages_of(site, &feed).map_err(document_error)?;
    let registration = register(store, site.domain.as_str(), pages).await.map_err(ImportError::Store)?;
    Ok(Import { format: feed.format, registration, undated: feed.undated, unlinked: feed.unlinked })
}

/// Every entry of `feed` as a page of `site`.
///
/// # Errors
/// The first entry that is not a valid page, at its link.
pub fn pages_of(site: &SiteEntry, feed: &Feed) -> Result<Vec<Page>, FeedError> {
    let (link, date) = match feed.format {
        Format::Sitemap => ("<loc>", "<lastmod>"),
        Format::Rss => ("<link>", "<pubDate>"),
        Format::Atom => ("<link href>", "<published>"),
    };
    feed.entries
        .iter()
        .map(|entry| {
            Page::at_url(site, &entry.link, entry.published, &entry.title).map_err(|error| {
                let problem = match error.part() {
                    Part::Location => format!("{link} `{}` {error}", entry.link),
                    Part::Published => format!("the {date} of {link} `{}` {error}", entry.link),
                    Part::Title => format!("the <title> of {link} `{}` {error}", entry.link),
                };
                FeedError { at: entry.at, problem }
            })
        })
        .collect()
}

/// What the content route needs: the store, and from the reports stage the sites, the
/// tokens and the wrong-token throttle (one budget for every door that takes a token).
pub struct ContentState {
    store: Store,
    reports: Reports,
}

impl ContentState {
    /// The state of `POST /api/v1/sites/{site}/content`; `startup` adds it to the app.
    pub fn new(store: Store, reports: Reports) -> web::Data<Self> {
        web::Data::new(Self { store, reports })
    }
}

/// Registers `POST /api/v1/sites/{site}/content` (its state is [`ContentState`]).
pub fn configure(config: &mut ServiceConfig<'_>) {
    config.service(post_content);
}

/// One page of a registration request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ContentEntry {
    /// The page's path on the site, starting with `/`; stored as intake stores page paths
    /// (query and fragment dropped, identifiers redacted).
    #[schema(required = true, example = "/blog/hello")]
    path: Option<String>,
    /// When the page was published, RFC 3339. A page's earliest registered publish time
    /// wins.
    #[schema(required = true, example = "2026-11-03T09:00:00Z")]
    published: Option<String>,
    /// The page's title; at most 1000 characters, whitespace collapsed.
    #[schema(example = "Hello, world")]
    title: Option<String>,
}

/// Register pages of a site in the content registry: their paths, publish times and
/// titles.
///
/// Every entry is checked before any is stored: one invalid entry refuses the request
/// (`field` names its index and field, `[2].published`) and nothing is registered. Paths
/// registered again keep their earliest publish time; the newest title wins. Needs the
/// admin token.
#[utoipa::path(
    tag = "content",
    security(("bearer" = [])),
    params(("site" = String, Path, description = "The site's domain", max_length = 253, example = "example.com")),
    request_body(content = Vec<ContentEntry>, content_type = "application/json"),
    responses(
        (status = OK, description = "Registered: what changed, per distinct path", body = Registration),
        (status = BAD_REQUEST, description = "The body is not a JSON array of pages, or an entry is invalid (`field` names it: `[index].name`)", body = ErrorBody),
        (status = UNAUTHORIZED, description = "No bearer token, or a wrong one", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"footfall reports\"`"))),
        (status = FORBIDDEN, description = "The token is a report token or share link, not the admin token", body = ErrorBody),
        (status = NOT_FOUND, description = "No such site", body = ErrorBody),
        (status = PAYLOAD_TOO_LARGE, description = "The body is larger than 16 MiB", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "Too many wrong tokens from this client; every token is refused until `Retry-After` has passed", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = SERVICE_UNAVAILABLE, description = "ClickHouse did not answer; nothing or everything was registered, so send the request again", body = ErrorBody),
    ),
)]
#[post("/api/v1/sites/{site}/content")]
async fn post_content(
    req: HttpRequest,
    site: web::Path<String>,
    body: web::Payload,
    state: web::Data<ContentState>,
) -> Result<HttpResponse, ContentError> {
    match state.reports.authorize(&req).await {
        Ok(Grant::Admin) => {}
        Ok(Grant::Site { .. }) => return Err(ContentError::NotAdmin),
        Err(refusal) => return Ok(refusal),
    }
    let site =
        Domain::parse(&site).map_err(|_| ContentError::InvalidSite { site: site.chars().take(253).collect() })?;
    let site = state
        .reports
        .sites()
        .find(site.as_str())
        .await
        .ok_or_else(|| ContentError::UnknownSite { site: site.to_string() })?;
    let body = read_body(body).await?;
    let pages = pages_of_body(&site, &body)?;
    let registration = register(&state.store, site.domain.as_str(), pages).await?;
    Ok(HttpResponse::Ok().json(registration))
}

/// The body, refusing more than [`MAX_BODY_BYTES`] without buffering them.
async fn read_body(mut body: web::Payload) -> Result<Vec<u8>, ContentError> {
    let mut buffer = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| match error {
            actix_web::error::PayloadError::Io(io) if io.kind() == crate::http_limits::BODY_TIMEOUT_KIND => {
                ContentError::BodyTimeout
            }
            _ => ContentError::BodyRead,
        })?;
        if buffer.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ContentError::BodyTooLarge);
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer)
}

/// The pages of a request body, every entry checked.
fn pages_of_body(site: &SiteEntry, body: &[u8]) -> Result<Vec<Page>, ContentError> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let entries: Vec<ContentEntry> = serde_path_to_error::deserialize(&mut json).map_err(|error| {
        let field = error.path().to_string();
        let problem = error.inner().to_string();
        match field.as_str() {
            "." => ContentError::Malformed {
                field: "body".into(),
                problem: format!(
                    "the body must be a JSON array of {{\"path\", \"published\", \"title\"}} objects ({problem})"
                ),
            },
            _ => ContentError::Malformed { problem: format!("`{field}`: {problem}"), field },
        }
    })?;
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let invalid = |name: &str, problem: String| ContentError::Invalid {
                field: format!("[{index}].{name}"),
                problem: format!("`[{index}].{name}` {problem}"),
            };
            let path = entry.path.ok_or_else(|| invalid("path", "is required".into()))?;
            let published = entry.published.ok_or_else(|| invalid("published", "is required".into()))?;
            let published = DateTime::parse_from_rfc3339(&published).map_err(|_| {
                invalid("published", format!("`{published}` must be an RFC 3339 time, such as `2026-11-03T09:00:00Z`"))
            })?;
            Page::at_path(site, &path, published.with_timezone(&Utc), entry.title.as_deref().unwrap_or_default())
                .map_err(|error| {
                    let name = match error.part() {
                        Part::Location => "path",
                        Part::Published => "published",
                        Part::Title => "title",
                    };
                    invalid(name, error.to_string())
                })
        })
        .collect()
}

/// Why a registration request was refused; one place for its HTTP status and JSON body
/// `{"error", "field"}`.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("registering content needs the admin token; report tokens and share links only read reports")]
    NotAdmin,
    #[error("`{site}` is not a valid site domain")]
    InvalidSite { site: String },
    #[error("site `{site}` is not registered with this collector")]
    UnknownSite { site: String },
    #[error("the body is larger than {MAX_BODY_BYTES} bytes; send the pages in several requests")]
    BodyTooLarge,
    #[error("could not read the request body")]
    BodyRead,
    #[error("the request body did not arrive in time; send it at once")]
    BodyTimeout,
    #[error("{problem}")]
    Malformed { field: String, problem: String },
    #[error("{problem}; nothing was registered")]
    Invalid { field: String, problem: String },
    #[error("ClickHouse did not answer; send the request again")]
    Store(#[from] StoreError),
}

impl ContentError {
    /// The field, parameter or header at fault.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::NotAdmin => Some("Authorization"),
            Self::InvalidSite { .. } | Self::UnknownSite { .. } => Some("site"),
            Self::BodyTooLarge | Self::BodyRead | Self::BodyTimeout => Some("body"),
            Self::Malformed { field, .. } | Self::Invalid { field, .. } => Some(field),
            Self::Store(_) => None,
        }
    }
}

impl ResponseError for ContentError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotAdmin => StatusCode::FORBIDDEN,
            Self::InvalidSite { .. } | Self::BodyRead | Self::Malformed { .. } | Self::Invalid { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::UnknownSite { .. } => StatusCode::NOT_FOUND,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Self::Store(error) = self {
            tracing::warn!(%error, "registering content failed");
        }
        response.json(ErrorBody { error: self.to_string(), field: self.field().map(str::to_owned) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_gives_every_count() {
        let mut import = Import {
            format: Format::Rss,
            registration: Registration { pages: 4, new: 1, moved_earlier: 1, earlier_kept: 1, unchanged: 1 },
            undated: 0,
            unlinked: 0,
        };
        assert_eq!(
            import.to_string(),
            "imported 4 page(s) from an RSS feed: 1 new, 1 moved to an earlier publish time, 1 kept their earlier \
             publish time, 1 unchanged"
        );
        import.undated = 2;
        assert!(import.to_string().ends_with("; skipped 2 entries without a date, 0 without a link"));
    }
}
