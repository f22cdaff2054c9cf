//! ClickHouse: the client, the row types and the queries that read and write them.
//!
//! Everything that speaks SQL to ClickHouse for the collector lives under this module
//! (report SQL lives in `reports`), the content registry's included (`content`) and the
//! goals' (`goals`). It knows nothing about HTTP: callers hand it typed
//! rows and get typed rows back.
//!
//! Server compatibility: every statement here runs on ClickHouse 18.16 and on current
//! releases. That means the client runs with validation off (18.16 lacks
//! `RowBinaryWithNamesAndTypes`), values are bound client-side with `?`, and the HTTP
//! connector sets `TCP_NODELAY` (without it each small INSERT stalls ~40 ms). Every
//! statement is a `const` so that `compat` (a test) can run each one on current
//! ClickHouse too; add new statements to its list.
//!
//! On a cluster (`clickhouse.cluster`), footfall's tables are `Distributed` tables over
//! local tables on every server (see `migrate`), and every query is sent with
//! [`CLUSTER_SETTINGS`].

#[cfg(test)]
pub(crate) mod compat;
mod content;
mod day_keys;
#[doc(hidden)]
pub mod describe;
mod error;
mod events;
mod goals;
mod migrate;
mod not_stored;
mod retention;
mod sites;
mod tokens;

use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use crate::config::ClickHouseSettings;

pub use content::RegisteredPage;
pub use day_keys::DayKeyRow;
pub use error::StoreError;
pub use events::{partition_month, EventRow};
pub use migrate::{keys_database, migrations, render_statement, schema_statements, Migration, Topology};
pub use not_stored::NotStoredRow;
pub use retention::{RetentionPass, VISITOR_TABLES};

/// What `/readyz` asks ClickHouse.
const PING: &str = "SELECT 1";

/// Settings of every query on a cluster.
///
/// - `insert_distributed_sync`: an INSERT into a `Distributed` table returns only once
///   every shard has stored its rows (by default it returns once the receiving server has
///   queued the other shards' rows on its disk, even while a shard is down). Exactly-once delivery depends on it:
///   an acknowledged batch is in the tables, and after a failed INSERT, asking which
///   event ids are stored finds exactly the rows that some shard wrote.
/// - `load_balancing = in_order`, `prefer_localhost_replica = 0`: every collector reads
///   and writes the first live replica of each shard, in the order of `remote_servers`,
///   wherever it is connected. So a collector reads what another has just written (a
///   day-key candidate, a stored event id) without waiting for replication; the other
///   replicas take over when that one is down.
/// - `distributed_product_mode = global`: report queries filter with `IN (subquery)` over
///   `Distributed` tables; run such subqueries once and send the result to every shard
///   (`GLOBAL IN`), which gives the single-server answer. (The default, `deny`, refuses
///   them with code 288.)
pub const CLUSTER_SETTINGS: &[(&str, &str)] = &[
    ("insert_distributed_sync", "1"),
    ("load_balancing", "in_order"),
    ("prefer_localhost_replica", "0"),
    ("distributed_product_mode", "global"),
];

/// A handle on footfall's ClickHouse database. Cheap to clone: clones share one
/// connection pool.
#[derive(Clone)]
pub struct Store {
    /// Client bound to footfall's database.
    client: clickhouse::Client,
    /// Client without a database, for `CREATE DATABASE` and `system.*` queries.
    server: clickhouse::Client,
    /// Client bound to the database of the day keys ([`keys_database`]).
    keys: clickhouse::Client,
    database: String,
    topology: Topology,
    request_timeout: Duration,
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
        let mut server = clickhouse::Client::with_http_client(http)
            .with_url(&settings.url)
            .with_user(&settings.user)
            .with_password(&settings.password)
            .with_validation(false);
        let topology = Topology::from_cluster(settings.cluster.clone());
        if matches!(topology, Topology::Cluster(_)) {
            for (name, value) in CLUSTER_SETTINGS {
                server = server.with_setting(*name, *value);
            }
        }
        Self {
            client: server.clone().with_database(&settings.database),
            keys: server.clone().with_database(keys_database(&settings.database)),
            server,
            database: settings.database.clone(),
            topology,
            request_timeout: Duration::from_millis(settings.request_timeout_ms),
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
        self.server.query(PING).fetch_one::<u8>().await.map(drop).map_err(StoreError::from)
    }

    /// The client bound to footfall's database, for reading in tests and tools.
    pub fn client(&self) -> &clickhouse::Client {
        &self.client
    }
}
