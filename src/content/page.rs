//! A page to register ([`Page`]): its path as intake stores page paths, its publish time
//! and its title, each checked when the page is made. Feeds give a page's URL, the API
//! its path; both go through intake's URL reduction (`privacy::urls::reduce_page_url`)
//! and the site's own redact patterns, so a registered path is the path the page's
//! events carry.

use chrono::{DateTime, Utc};

use crate::privacy::redact::redact_site_patterns;
use crate::privacy::urls::{reduce_page_url, UrlError};
use crate::sites::SiteEntry;

/// Longest title kept, in characters (after whitespace is collapsed).
pub const MAX_TITLE_CHARS: usize = 1000;

/// Which part of a page a [`PageError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The URL (feeds) or path (API).
    Location,
    Published,
    Title,
}

/// Why a page cannot be registered. Messages read as a predicate on the part, for the
/// caller to prefix with where it is (`<loc> ...`, `` `path` ... ``).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    Url(UrlError),
    #[error("is on host `{host}`, which does not belong to site `{site}`")]
    ForeignHost { host: String, site: String },
    #[error("must be a path that starts with `/`, such as `/blog/hello`")]
    NotAPath,
    #[error("must lie after 1970-01-01T00:00:00Z and before 2106-02-07T06:28:15Z")]
    OutOfRange,
    #[error("must be at most {MAX_TITLE_CHARS} characters long")]
    TitleTooLong,
}

impl PageError {
    /// The part of the page at fault.
    pub fn part(&self) -> Part {
        match self {
            Self::Url(_) | Self::ForeignHost { .. } | Self::NotAPath => Part::Location,
            Self::OutOfRange => Part::Published,
            Self::TitleTooLong => Part::Title,
        }
    }
}

/// A page of one site, ready to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    path: String,
    published: u32,
    title: String,
}

impl Page {
    /// The page at `url` (absolute, on the site's host or a subdomain or an allowed
    /// origin's host, as intake requires of page URLs).
    ///
    /// # Errors
    /// A URL intake would refuse, or on another host; a publish time a ClickHouse
    /// `DateTime` cannot hold; a title longer than [`MAX_TITLE_CHARS`].
    pub fn at_url(site: &SiteEntry, url: &str, published: DateTime<Utc>, title: &str) -> Result<Self, PageError> {
        let page = reduce_page_url(url).map_err(PageError::Url)?;
        if !site.allows_host(&page.host) {
            return Err(PageError::ForeignHost { host: page.host, site: site.domain.to_string() });
        }
        Ok(Self {
            path: redact_site_patterns(page.path, &site.redact),
            published: publish_time(published)?,
            title: title_of(title)?,
        })
    }

    /// The page at `path` on the site, reduced as the URL `https://<site><path>` would be.
    ///
    /// # Errors
    /// A path that does not start with `/`, and as [`Page::at_url`].
    pub fn at_path(site: &SiteEntry, path: &str, published: DateTime<Utc>, title: &str) -> Result<Self, PageError> {
        if !path.starts_with('/') || path.starts_with("//") {
            return Err(PageError::NotAPath);
        }
        Self::at_url(site, &format!("https://{}{path}", site.domain), published, title)
    }

    /// The stored path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The publish time, seconds since the epoch (UTC).
    pub fn published(&self) -> u32 {
        self.published
    }

    /// The title, whitespace collapsed; empty when there is none.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Folds `other`, a page with the same path, into this one: the earlier publish time
    /// wins, and brings its title along unless it has none.
    pub(super) fn merge(&mut self, other: Self) {
        if other.published < self.published {
            let title = if other.title.is_empty() { std::mem::take(&mut self.title) } else { other.title };
            *self = Self { title, ..other };
        } else if self.title.is_empty() {
            self.title = other.title;
        }
    }
}

/// Seconds since the epoch, within what a `DateTime` holds, short of its largest value
/// (which `page_first_seen` uses for "no publish time").
fn publish_time(at: DateTime<Utc>) -> Result<u32, PageError> {
    u32::try_from(at.timestamp()).ok().filter(|seconds| (1..u32::MAX).contains(seconds)).ok_or(PageError::OutOfRange)
}

/// `text` with runs of whitespace made one space, trimmed.
fn title_of(text: &str) -> Result<String, PageError> {
    let title = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(PageError::TitleTooLong);
    }
    Ok(title)
}

#[cfg(test)]
mod tests {
    use futures_util::future::BoxFuture;

    use super::*;
    use crate::reloads::LoadError;
    use crate::sites::{Site, SiteRegistry, SiteSource};

    /// The sites a test registers.
    struct Fixed(Vec<Site>);

    impl SiteSource for Fixed {
        fn load_sites(&self) -> BoxFuture<'_, Result<Vec<Site>, LoadError>> {
            Box::pin(async move { Ok(self.0.clone()) })
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    async fn site() -> std::sync::Arc<SiteEntry> {
        let site = Site::new("example.com", "UTC", &["https://partner.example.net".into()])
            .unwrap()
            .with_redact(&["^/orders/([^/]+)".into()])
            .unwrap();
        let registry = SiteRegistry::new(std::sync::Arc::new(Fixed(vec![site])));
        registry.reload().await.unwrap();
        registry.get("example.com").unwrap()
    }

    #[tokio::test]
    async fn urls_become_the_paths_intake_stores() {
        let site = site().await;
        let published = at("2026-11-03T09:00:00Z");
        let page = Page::at_url(&site, "https://Blog.Example.com:443/a/./b/?utm_source=x#top", published, "").unwrap();
        assert_eq!((page.path(), page.published(), page.title()), ("/a/b/", 1_793_696_400, ""));
        let page = Page::at_url(&site, "https://example.com/users/jane@example.org/x", published, "").unwrap();
        assert_eq!(page.path(), "/users/[email]/x");
        assert_eq!(
            Page::at_url(&site, "https://example.com/orders/A123", published, "").unwrap().path(),
            "/orders/[id]"
        );
        assert_eq!(Page::at_url(&site, "http://partner.example.net", published, "").unwrap().path(), "/");
        assert_eq!(Page::at_path(&site, "/a/../c?q=1", published, "").unwrap().path(), "/c");
    }

    #[tokio::test]
    async fn what_intake_would_refuse_is_refused() {
        let site = site().await;
        let published = at("2026-11-03T09:00:00Z");
        assert_eq!(
            Page::at_url(&site, "https://other.org/a", published, ""),
            Err(PageError::ForeignHost { host: "other.org".into(), site: "example.com".into() })
        );
        assert!(matches!(Page::at_url(&site, "/relative", published, ""), Err(PageError::Url(_))));
        assert_eq!(Page::at_url(&site, "ftp://example.com/a", published, ""), Err(PageError::Url(UrlError::NotHttp)));
        assert_eq!(Page::at_path(&site, "blog", published, ""), Err(PageError::NotAPath));
        assert_eq!(Page::at_path(&site, "//other.org/a", published, ""), Err(PageError::NotAPath));
        assert_eq!(Page::at_path(&site, "/a", at("1969-12-31T23:59:59Z"), ""), Err(PageError::OutOfRange));
        assert_eq!(Page::at_path(&site, "/a", at("2106-02-07T06:28:15Z"), ""), Err(PageError::OutOfRange));
        assert_eq!(Page::at_path(&site, "/a", published, &"x".repeat(1001)), Err(PageError::TitleTooLong));
        assert_eq!(PageError::TitleTooLong.part(), Part::Title);
    }

    #[tokio::test]
    async fn titles_are_collapsed_and_the_earliest_publish_time_wins_a_merge() {
        let site = site().await;
        let page = |published: &str, title: &str| Page::at_path(&site, "/a", at(published), title).unwrap();
        assert_eq!(page("2026-11-03T09:00:00Z", "  Hello,\n\t world ").title(), "Hello, world");

        let mut kept = page("2026-11-03T09:00:00Z", "");
        kept.merge(page("2026-11-04T09:00:00Z", "Later"));
        assert_eq!((kept.published(), kept.title()), (1_793_696_400, "Later"));
        kept.merge(page("2026-11-02T09:00:00Z", ""));
        assert_eq!((kept.published(), kept.title()), (1_793_610_000, "Later"));
        kept.merge(page("2026-11-01T09:00:00Z", "Earliest"));
        assert_eq!((kept.published(), kept.title()), (1_793_523_600, "Earliest"));
    }
}
