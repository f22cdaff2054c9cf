//! Who may read which site's reports: the report tokens and share links as stored
//! ([`TokenRecord`], typed by [`TokenKind`]), and the [`Directory`] that turns a token
//! handed in into a [`Grant`].
//!
//! The directory holds an in-memory copy of the tokens, which `jobs` re-reads from a
//! [`TokenSource`] (the store) every `reports.tokens_refresh_secs` (revoking takes effect
//! within it) and which is also re-read, rate-limited, when a request hands in a token
//! whose id it does not know yet: such a request waits for that reload rather than being
//! told its token is wrong from a stale copy, so a token made a moment ago with `footfall
//! tokens create` works at once, while unknown tokens cannot make every request wait on
//! ClickHouse. Wrong tokens are counted against their client ([`super::AuthFailureLimiter`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use futures_util::future::BoxFuture;
use tokio::time::Instant;

use super::{constant_time_eq, hash_token, token_id};
use crate::reloads::{LoadError, Reloads};

/// Least time between two reloads triggered by unknown token ids.
const RELOAD_ON_MISS_AFTER: Duration = Duration::from_secs(1);

/// What a token is for. Both grant the same reading of one site; the kind says how it
/// was handed out, so each can be listed and revoked as what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bearer token for the reports API (`footfall tokens create`).
    Report,
    /// The token of a read-only dashboard link (`footfall share create`).
    ShareLink,
}

impl TokenKind {
    /// The stored name (`report_tokens.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Report => "report",
            Self::ShareLink => "share_link",
        }
    }
}

impl TryFrom<String> for TokenKind {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "report" => Ok(Self::Report),
            "share_link" => Ok(Self::ShareLink),
            other => Err(format!("unknown token kind `{other}`")),
        }
    }
}

/// A report token as stored: everything but the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Public id (the `<id>` of `fft_<id>_<secret>`).
    pub id: String,
    /// The site whose reports the token may read.
    pub site: String,
    /// `blake3(token)`, hex.
    pub hash: String,
    /// Free text to recognise the token by.
    pub label: String,
    /// Seconds since the epoch, UTC.
    pub created_at: u32,
    /// What it is for.
    pub kind: TokenKind,
    /// The report filters every report read with this token applies, as a URL query
    /// string (`country=%21US`); empty for none. Only share links lock filters
    /// (`footfall share create --filter`); `reports` checks and applies them.
    pub locked_filters: String,
}

/// Where the directory reads the tokens from (the store, in a running collector).
pub trait TokenSource: Send + Sync + 'static {
    /// Every token that is not revoked.
    fn load_tokens(&self) -> BoxFuture<'_, Result<Vec<TokenRecord>, LoadError>>;
}

/// What a request's token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// The admin token: every site.
    Admin,
    /// A report token or share link: this site only, narrowed by the filters the share
    /// link locks (a URL query string, empty for none; `reports` applies them).
    Site { site: String, locked_filters: String },
}

/// The token handed in is neither the admin token nor a current report token or share
/// link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the token is not valid (unknown, revoked or mistyped)")]
pub struct UnknownToken;

/// Shared, cheaply readable tokens; clones share one copy.
#[derive(Clone)]
pub struct Directory {
    inner: Arc<Inner>,
}

struct Inner {
    /// Token id -> what it grants, and its blake3 hash hex.
    tokens: ArcSwap<HashMap<String, (Grant, String)>>,
    source: Arc<dyn TokenSource>,
    reloads: Reloads,
    admin_token: Option<String>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").field("tokens", &self.inner.tokens.load().len()).finish_non_exhaustive()
    }
}

impl Directory {
    /// An empty directory reading from `source` ([`Directory::reload`] fills it);
    /// `admin_token` is the settings' `admin_token`.
    pub fn new(source: Arc<dyn TokenSource>, admin_token: Option<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                tokens: ArcSwap::default(),
                source,
                reloads: Reloads::new(RELOAD_ON_MISS_AFTER),
                admin_token,
            }),
        }
    }

    /// Re-reads the tokens (after a reload in progress has ended).
    ///
    /// # Errors
    /// The source failing; the previous tokens stay.
    pub async fn reload(&self) -> Result<(), LoadError> {
        self.inner.reloads.run(|| self.load()).await
    }

    async fn load(&self) -> Result<(), LoadError> {
        let tokens = self.inner.source.load_tokens().await?;
        let by_id = tokens
            .into_iter()
            .map(|token| {
                let grant = Grant::Site { site: token.site, locked_filters: token.locked_filters };
                (token.id, (grant, token.hash))
            })
            .collect();
        self.inner.tokens.store(Arc::new(by_id));
        Ok(())
    }

    /// What `token` allows: the reports API's bearer token and the dashboard's login form
    /// and share links hand it in, each through the wrong-token throttle
    /// ([`super::AuthFailureLimiter`]). A well-formed report token whose id is not known
    /// yet waits for a reload that started after the request came (at most
    /// `RELOAD_ON_MISS_AFTER` plus the reload), so a token made a moment ago is never
    /// answered as wrong and counted against its client.
    ///
    /// # Errors
    /// [`UnknownToken`] when it is neither the admin token nor a current report token or
    /// share link.
    pub async fn grant_token(&self, token: &str) -> Result<Grant, UnknownToken> {
        let asked = Instant::now();
        if let Some(admin) = &self.inner.admin_token {
            if constant_time_eq(token.as_bytes(), admin.as_bytes()) {
                return Ok(Grant::Admin);
            }
        }
        let id = token_id(token).ok_or(UnknownToken)?;
        let hash = hash_token(token);
        // `None`: the id is unknown; `Some(None)`: known, and the secret is wrong.
        let check = || {
            let tokens = self.inner.tokens.load();
            let (grant, stored) = tokens.get(id)?;
            Some(constant_time_eq(hash.as_bytes(), stored.as_bytes()).then(|| grant.clone()))
        };
        if let Some(known) = check() {
            // Ids are random per token: a known id with another secret is a wrong token.
            return known.ok_or(UnknownToken);
        }
        self.inner.reloads.since(asked, "the report tokens", || self.load()).await;
        check().flatten().ok_or(UnknownToken)
    }
}
