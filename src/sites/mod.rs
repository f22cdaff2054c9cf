//! Sites: what a registered site is (its [`Domain`], time zone, allowed origins and
//! privacy choices), checked once when it is made, and the [`SiteRegistry`] that intake,
//! the reports, the dashboard and visitors' forget requests read (the opt-out page checks
//! its `site` parameter with [`Domain`]).
//!
//! This module holds no SQL: `store` keeps sites in ClickHouse (`store::sites`) and hands
//! them to the registry through [`SiteSource`]; `jobs` re-reads them periodically.

mod registry;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use registry::{SiteEntry, SiteRegistry, SiteSource};

/// A site's domain: lowercase, without a trailing dot, made of 1 to 63 character labels
/// of ASCII letters, digits and inner hyphens, at most 253 characters. The only way to
/// make one is [`Domain::parse`], so a `Domain` is always valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Domain(String);

impl Domain {
    /// Normalises (trims spaces and one trailing dot, lowercases) and checks `text`.
    ///
    /// # Errors
    /// [`SiteError::Domain`] with the normalised text when it is not a domain name.
    pub fn parse(text: &str) -> Result<Self, SiteError> {
        let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
        let valid = !domain.is_empty()
            && domain.len() <= 253
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if valid {
            Ok(Self(domain))
        } else {
            Err(SiteError::Domain(domain))
        }
    }

    /// The domain as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Domain {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Domain {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Domain {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl TryFrom<String> for Domain {
    type Error = SiteError;

    fn try_from(text: String) -> Result<Self, SiteError> {
        Self::parse(&text)
    }
}

impl From<Domain> for String {
    fn from(domain: Domain) -> Self {
        domain.0
    }
}

/// A registered site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The site's domain, e.g. `example.com`; pages on it and its subdomains may send events.
    pub domain: Domain,
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
        let domain = Domain::parse(domain)?;
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

    #[test]
    fn domains_are_checked_label_by_label() {
        let longest_label = "a".repeat(63);
        for good in ["example.com", "a.b-c.example", "xn--bcher-kva.example", "localhost", &longest_label] {
            assert_eq!(Domain::parse(good).unwrap().as_str(), good);
        }
        let (long_label, too_long) = ("a".repeat(64), format!("{}.com", [longest_label.as_str(); 4].join(".")));
        for bad in
            ["", ".", "a..b", "-a.com", "a-.com", "a_b.com", "exa mple.com", "ex/ample.com", &long_label, &too_long]
        {
            assert!(Domain::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_domain_cannot_be_deserialised_unchecked() {
        let parsed: Result<Domain, _> = serde_json::from_str("\"not a domain\"");
        assert!(parsed.is_err());
        let parsed: Domain = serde_json::from_str("\"Example.com\"").unwrap();
        assert_eq!(parsed, "example.com");
    }
}
