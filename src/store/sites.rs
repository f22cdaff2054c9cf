//! The `sites` table: which domains footfall accepts events for, their time zone, the
//! extra origins allowed to send for them, whether they count only visitors who
//! consented, whether they ignore `DNT`, and their own path patterns to redact. Rows are
//! versioned; the newest version wins.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// A registered site.
#[derive(Debug, Clone, PartialEq, Eq, Row, Serialize, Deserialize)]
pub struct Site {
    /// Lowercase domain, e.g. `example.com`.
    pub domain: String,
    /// IANA time zone for the site's reports, e.g. `Europe/London`.
    pub timezone: String,
    /// Origins beyond the domain and its subdomains allowed to send events for it,
    /// normalised to `scheme://host[:port]`, or `null` for opaque origins.
    pub origins: Vec<String>,
    /// Consent mode: events count only when they say the visitor consented.
    pub consent: bool,
    /// `DNT: 1` does not stop counting (`--ignore-dnt`).
    pub ignore_dnt: bool,
    /// The site's own regular expressions for identifiers in its page paths
    /// (`--redact`), checked to compile by [`Site::with_redact`].
    pub redact: Vec<String>,
}

/// The opaque origin browsers send as `Origin: null` (sandboxed iframes, `file:` pages,
/// some redirects); a site that lists it among its origins (`sites add --origin null`)
/// accepts such requests.
pub const NULL_ORIGIN: &str = "null";

/// Why a site definition is not acceptable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SiteError {
    #[error("domain `{0}` is not a valid domain name; give a bare host such as example.com")]
    Domain(String),
    #[error("time zone `{0}` is not an IANA time zone; use a name such as Europe/London or UTC")]
    TimeZone(String),
    #[error("origin `{0}` is not an origin; use scheme://host[:port] such as https://example.net")]
    Origin(String),
    #[error("redact pattern `{pattern}` is not a regular expression: {problem}")]
    Redact { pattern: String, problem: String },
}

impl Site {
    /// Validates and normalises a site definition.
    ///
    /// # Errors
    /// The first of domain, time zone or origins that is not valid.
    pub fn new(domain: &str, timezone: &str, origins: &[String]) -> Result<Self, SiteError> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let valid_domain = !domain.is_empty()
            && domain.len() <= 253
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid_domain {
            return Err(SiteError::Domain(domain));
        }
        if timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(SiteError::TimeZone(timezone.to_string()));
        }
        let origins = origins
            .iter()
            .map(|origin| match url::Url::parse(origin) {
                // Opaque origins (sandboxed iframes, `file:` pages): only when listed.
                _ if origin.trim() == NULL_ORIGIN => Ok(NULL_ORIGIN.to_string()),
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                    Ok(url.origin().ascii_serialization())
                }
                _ => Err(SiteError::Origin(origin.clone())),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            domain,
            timezone: timezone.to_string(),
            origins,
            consent: false,
            ignore_dnt: false,
            redact: Vec::new(),
        })
    }

    /// The same site in consent mode (`true`) or not.
    #[must_use]
    pub fn with_consent(self, consent: bool) -> Self {
        Self { consent, ..self }
    }

    /// The same site ignoring `DNT: 1` (`true`) or honouring it.
    #[must_use]
    pub fn with_ignore_dnt(self, ignore_dnt: bool) -> Self {
        Self { ignore_dnt, ..self }
    }

    /// The same site with its own path patterns to redact.
    ///
    /// # Errors
    /// [`SiteError::Redact`] for the first pattern that is not a regular expression (the
    /// `regex` crate's syntax) or is larger than it allows.
    pub fn with_redact(self, patterns: &[String]) -> Result<Self, SiteError> {
        for pattern in patterns {
            if let Err(error) = regex::Regex::new(pattern) {
                return Err(SiteError::Redact { pattern: pattern.clone(), problem: error.to_string() });
            }
        }
        Ok(Self { redact: patterns.to_vec(), ..self })
    }
}

/// The newest version of every site that is not removed.
pub(super) const LIST_SITES: &str =
    "SELECT domain, latest_timezone AS timezone, latest_origins AS origins, latest_consent AS consent, \
            latest_ignore_dnt AS ignore_dnt, latest_redact AS redact FROM ( \
       SELECT domain, argMax(timezone, version) AS latest_timezone, \
              argMax(origins, version) AS latest_origins, \
              argMax(consent, version) AS latest_consent, \
              argMax(ignore_dnt, version) AS latest_ignore_dnt, \
              argMax(redact, version) AS latest_redact, \
              argMax(deleted, version) AS latest_deleted \
       FROM sites GROUP BY domain \
     ) WHERE latest_deleted = 0 ORDER BY domain";

#[derive(Row, Serialize, Deserialize)]
struct SiteRow {
    domain: String,
    timezone: String,
    origins: Vec<String>,
    consent: u8,
    ignore_dnt: u8,
    redact: Vec<String>,
    deleted: u8,
    version: u64,
}

impl Store {
    /// Adds a site, or replaces the definition of an existing one.
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn put_site(&self, site: &Site) -> Result<(), StoreError> {
        self.write_site_version(site, 0).await
    }

    /// Marks a site removed; its events stay. Returns whether it existed.
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn remove_site(&self, domain: &str) -> Result<bool, StoreError> {
        let existing = self.list_sites().await?.into_iter().find(|site| site.domain == domain);
        match existing {
            Some(site) => self.write_site_version(&site, 1).await.map(|()| true),
            None => Ok(false),
        }
    }

    async fn write_site_version(&self, site: &Site, deleted: u8) -> Result<(), StoreError> {
        let mut insert = self.client.insert::<SiteRow>("sites").await?;
        insert
            .write(&SiteRow {
                domain: site.domain.clone(),
                timezone: site.timezone.clone(),
                origins: site.origins.clone(),
                consent: u8::from(site.consent),
                ignore_dnt: u8::from(site.ignore_dnt),
                redact: site.redact.clone(),
                deleted,
                version: chrono::Utc::now().timestamp_micros() as u64,
            })
            .await?;
        insert.end().await.map_err(StoreError::from)
    }

    /// Every site that is not removed, by domain.
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn list_sites(&self) -> Result<Vec<Site>, StoreError> {
        self.client.query(LIST_SITES).fetch_all::<Site>().await.map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_is_normalised() {
        let site = Site::new(" Example.COM. ", "Europe/London", &["https://Example.net:443/path".into()]).unwrap();
        assert_eq!(site.domain, "example.com");
        assert_eq!(site.origins, vec!["https://example.net".to_string()]);
    }

    #[test]
    fn bad_definitions_are_named() {
        assert_eq!(Site::new("exa mple.com", "UTC", &[]), Err(SiteError::Domain("exa mple.com".into())));
        assert_eq!(Site::new("example.com", "Mars/Olympus", &[]), Err(SiteError::TimeZone("Mars/Olympus".into())));
        assert_eq!(
            Site::new("example.com", "UTC", &["example.net".into()]),
            Err(SiteError::Origin("example.net".into()))
        );
        let unclosed = Site::new("example.com", "UTC", &[]).unwrap().with_redact(&["/a/(".into()]);
        assert!(matches!(unclosed, Err(SiteError::Redact { pattern, .. }) if pattern == "/a/("));
    }
}
