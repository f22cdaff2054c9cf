//! The `report_tokens` table: per-site read-only report tokens and share links, stored
//! only as hashes, with the filters a share link locks (`auth` makes and checks them, and
//! defines [`TokenRecord`]). Rows are versioned; the newest version of an id wins.

use clickhouse::Row;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::auth::{TokenKind, TokenRecord, TokenSource};
use crate::reloads::LoadError;

#[derive(Row, Serialize)]
struct TokenRow {
    id: String,
    site: String,
    hash: String,
    label: String,
    created_at: u32,
    kind: &'static str,
    revoked: u8,
    version: u64,
    locked_filters: String,
}

/// The newest version of every token that is not revoked.
pub(super) const LIST_TOKENS: &str = "SELECT id, latest_site AS site, latest_hash AS hash, latest_label AS label, \
            latest_created_at AS created_at, latest_kind AS kind, \
            latest_locked_filters AS locked_filters FROM ( \
       SELECT id, argMax(site, version) AS latest_site, argMax(hash, version) AS latest_hash, \
              argMax(label, version) AS latest_label, toUInt32(argMax(created_at, version)) AS latest_created_at, \
              argMax(kind, version) AS latest_kind, \
              argMax(revoked, version) AS latest_revoked, \
              argMax(locked_filters, version) AS latest_locked_filters \
       FROM report_tokens GROUP BY id \
     ) WHERE latest_revoked = 0 ORDER BY id";

impl Store {
    /// Stores a new token (its hash, never the token).
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.write_token_version(token, 0).await
    }

    /// Revokes the token `id` of `kind`. Returns whether such a token existed (and was not
    /// revoked).
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn revoke_token(&self, id: &str, kind: TokenKind) -> Result<bool, StoreError> {
        match self.list_tokens().await?.into_iter().find(|token| token.id == id && token.kind == kind) {
            Some(token) => self.write_token_version(&token, 1).await.map(|()| true),
            None => Ok(false),
        }
    }

    async fn write_token_version(&self, token: &TokenRecord, revoked: u8) -> Result<(), StoreError> {
        let mut insert = self.client.insert::<TokenRow>("report_tokens").await?;
        insert
            .write(&TokenRow {
                id: token.id.clone(),
                site: token.site.clone(),
                hash: token.hash.clone(),
                label: token.label.clone(),
                created_at: token.created_at,
                kind: token.kind.as_str(),
                revoked,
                version: chrono::Utc::now().timestamp_micros() as u64,
                locked_filters: token.locked_filters.clone(),
            })
            .await?;
        insert.end().await.map_err(StoreError::from)
    }

    /// Every token that is not revoked, by id.
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let listed = self.client.query(LIST_TOKENS).fetch_all::<ListedToken>().await?;
        Ok(listed.into_iter().filter_map(ListedToken::into_record).collect())
    }
}

/// A token as [`LIST_TOKENS`] returns it, before its kind is read.
#[derive(Debug, Row, Deserialize)]
pub(super) struct ListedToken {
    id: String,
    site: String,
    hash: String,
    label: String,
    created_at: u32,
    kind: String,
    locked_filters: String,
}

impl ListedToken {
    /// The token; `None`, with a warning, for a kind this build does not know (a newer
    /// build's token: it is not honoured here).
    fn into_record(self) -> Option<TokenRecord> {
        let kind = match TokenKind::try_from(self.kind) {
            Ok(kind) => kind,
            Err(error) => {
                tracing::warn!(%error, id = self.id, "skipping a stored token of an unknown kind");
                return None;
            }
        };
        let Self { id, site, hash, label, created_at, locked_filters, .. } = self;
        Some(TokenRecord { id, site, hash, label, created_at, kind, locked_filters })
    }
}

impl TokenSource for Store {
    fn load_tokens(&self) -> BoxFuture<'_, Result<Vec<TokenRecord>, LoadError>> {
        Box::pin(async move { self.list_tokens().await.map_err(LoadError::from) })
    }
}
