//! ClickHouse: the client, the row types and the queries that read and write them.
//!
//! Everything that speaks SQL to ClickHouse for the collector lives under this module
//! (report SQL lives in `reports`). It knows nothing about HTTP: callers hand it typed
//! rows and get typed rows back.
//!
//! Server compatibility: every statement here runs on ClickHouse 18.16 and on current
//! releases. That means the client runs with validation off (18.16 lacks
//! `RowBinaryWithNamesAndTypes`), values are bound client-side with `?`, and the HTTP
//! connector sets `TCP_NODELAY` (without it each small INSERT stalls ~40 ms). Every
//! statement is a `const` so that `compat` (a test) can run each one on current
//! ClickHouse too; add new statements to its list.

#[cfg(test)]
mod compat;
mod day_keys;
mod events;
mod migrate;
mod sites;
mod tokens;

use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use crate::config::ClickHouseSettings;

pub use day_keys::DayKeyRow;
pub use events::EventRow;
#[cfg(test)]
pub(crate) use migrate::statements;
pub use migrate::{migrations, render_statement, Migration, Topology};
pub use sites::{Site, SiteError};
pub use tokens::TokenRecord;

/// What `/readyz` asks ClickHouse.
const PING: &str = "SELECT 1";

/// The ClickHouse error type, re-exported so callers need not depend on the crate.
pub type StoreError = clickhouse::error::Error;

/// A handle on footfall's ClickHouse database. Cheap to clone: clones share one
/// connection pool.
#[derive(Clone)]
pub struct Store {
    /// Client bound to footfall's database.
    client: clickhouse::Client,
    /// Client without a database, for `CREATE DATABASE` and `system.*` queries.
    server: clickhouse::Client,
    database: String,
    topology: Topology,
}

impl Store {
    /// Builds the clients; connects lazily, so this succeeds with ClickHouse down.
    pub fn new(settings: &ClickHouseSettings) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(60)));
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        let http = HyperClient::builder(TokioExecutor::new())
            // ClickHouse closes idle keep-alive connections after 3 s; stay below that.
            .pool_idle_timeout(Duration::from_secs(2))
            .build(connector);
        let server = clickhouse::Client::with_http_client(http)
            .with_url(&settings.url)
            .with_user(&settings.user)
            .with_password(&settings.password)
            .with_validation(false);
        Self {
            client: server.clone().with_database(&settings.database),
            server,
            database: settings.database.clone(),
            topology: Topology::from_cluster(settings.cluster.clone()),
        }
    }

    /// Name of footfall's database.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Runs `SELECT 1`; `/readyz` uses it.
    ///
    /// # Errors
    /// When ClickHouse is unreachable or answers an error.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.server.query(PING).fetch_one::<u8>().await.map(drop)
    }

    /// The client bound to footfall's database, for reading in tests and tools.
    pub fn client(&self) -> &clickhouse::Client {
        &self.client
    }
}
