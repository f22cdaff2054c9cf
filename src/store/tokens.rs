//! The `report_tokens` table: per-site read-only report tokens, stored only as hashes
//! (`auth` makes and checks them). Rows are versioned; the newest version of an id wins.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// A report token as stored: everything but the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Row, Serialize, Deserialize)]
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
}

#[derive(Row, Serialize)]
struct TokenRow {
    id: String,
    site: String,
    hash: String,
    label: String,
    created_at: u32,
    revoked: u8,
    version: u64,
}

/// The newest version of every token that is not revoked.
pub(super) const LIST_TOKENS: &str = "SELECT id, latest_site AS site, latest_hash AS hash, latest_label AS label, \
            latest_created_at AS created_at FROM ( \
       SELECT id, argMax(site, version) AS latest_site, argMax(hash, version) AS latest_hash, \
              argMax(label, version) AS latest_label, toUInt32(argMax(created_at, version)) AS latest_created_at, \
              argMax(revoked, version) AS latest_revoked \
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

    /// Revokes the token `id`. Returns whether such a token existed (and was not revoked).
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        match self.list_tokens().await?.into_iter().find(|token| token.id == id) {
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
                revoked,
                version: chrono::Utc::now().timestamp_micros() as u64,
            })
            .await?;
        insert.end().await.map_err(StoreError::from)
    }

    /// Every token that is not revoked, by id.
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.client.query(LIST_TOKENS).fetch_all::<TokenRecord>().await.map_err(StoreError::from)
    }
}
