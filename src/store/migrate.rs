//! Schema migrations: the numbered `.sql` files in `schema/`, compiled into the binary and
//! applied in order by `footfall migrate` and at `serve` start.
//!
//! Applying is idempotent: every statement is `CREATE ... IF NOT EXISTS`, applied versions
//! are recorded in `schema_migrations`, and two nodes migrating at once do no harm.
//!
//! Files use three placeholders, filled in one place ([`render_statement`]) so the same
//! schema serves one server or a cluster:
//! - `{database}`: footfall's database;
//! - `{on_cluster}`: empty, or `ON CLUSTER name`;
//! - `{engine:Kind(args)}`: `Kind(args)` on one server, or
//!   `ReplicatedKind('/clickhouse/tables/{shard}/db/table', '{replica}', args)` on a cluster.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// One schema file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Number from the file name (`0002_events.sql` is 2).
    pub version: u32,
    /// File name without `.sql`.
    pub name: &'static str,
    /// The file's text.
    pub sql: &'static str,
}

macro_rules! schema_files {
    ($($version:literal => $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../schema/", $name, ".sql")),
        }),*]
    };
}

/// Every schema file, in order. A unit test checks this matches the `schema/` folder.
pub fn migrations() -> &'static [Migration] {
    schema_files![
        1 => "0001_schema_migrations",
        2 => "0002_events",
        3 => "0003_sites",
        4 => "0004_day_keys",
        5 => "0005_report_rollups",
        6 => "0006_report_tokens",
    ]
}

/// Where the schema lives: one server, or a named cluster with replicated tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// One ClickHouse server: plain engines, no `ON CLUSTER`.
    Single,
    /// A cluster from the server's `remote_servers`: `ON CLUSTER` DDL, `Replicated*` engines.
    Cluster(String),
}

impl Topology {
    /// `Cluster` when a cluster name is configured.
    pub fn from_cluster(cluster: Option<String>) -> Self {
        cluster.map_or(Self::Single, Self::Cluster)
    }
}

/// Fills the placeholders of one statement.
pub fn render_statement(sql: &str, database: &str, topology: &Topology) -> String {
    let table = sql
        .split_once("{database}.")
        .map(|(_, rest)| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>())
        .unwrap_or_default();
    let on_cluster = match topology {
        Topology::Single => String::new(),
        Topology::Cluster(name) => format!("ON CLUSTER {name}"),
    };
    let mut out = sql.replace("{on_cluster}", &on_cluster);
    while let Some(start) = out.find("{engine:") {
        let end = start + out[start..].find('}').expect("schema file has an unclosed {engine:...} placeholder");
        let spec = &out[start + "{engine:".len()..end];
        let (kind, args) =
            spec.split_once('(').map(|(kind, args)| (kind, args.trim_end_matches(')'))).unwrap_or((spec, ""));
        let engine = match topology {
            Topology::Single => format!("{kind}({args})"),
            Topology::Cluster(_) => {
                let path = format!("'/clickhouse/tables/{{shard}}/{database}/{table}', '{{replica}}'");
                let sep = if args.is_empty() { "" } else { ", " };
                format!("Replicated{kind}({path}{sep}{args})")
            }
        };
        out.replace_range(start..=end, &engine);
    }
    out.replace("{database}", database)
}

/// The statements of a schema file: comments removed, split on `;` at line ends.
pub(crate) fn statements(sql: &str) -> impl Iterator<Item = String> + '_ {
    let code: String =
        sql.lines().filter(|line| !line.trim_start().starts_with("--")).map(|line| format!("{line}\n")).collect();
    code.split(";\n")
        .map(|statement| statement.trim().trim_end_matches(';').to_string())
        .filter(|statement| !statement.is_empty())
        .collect::<Vec<_>>()
        .into_iter()
}

#[derive(Row, Serialize, Deserialize)]
struct LedgerRow {
    version: u32,
    name: String,
    checksum: String,
    applied_at: u32,
}

/// Creates footfall's database (a schema-style template).
pub(super) const CREATE_DATABASE: &str = "CREATE DATABASE IF NOT EXISTS {database} {on_cluster}";
/// Whether the ledger table exists in database `?`.
pub(super) const LEDGER_EXISTS: &str =
    "SELECT count() FROM system.tables WHERE database = ? AND name = 'schema_migrations'";
/// Applied versions and the checksum each was applied with.
pub(super) const APPLIED_MIGRATIONS: &str =
    "SELECT version, any(checksum) FROM schema_migrations GROUP BY version ORDER BY version";

#[derive(Row, Deserialize)]
struct AppliedMigration {
    version: u32,
    checksum: String,
}

fn checksum(migration: &Migration) -> String {
    blake3::hash(migration.sql.as_bytes()).to_hex().to_string()
}

impl Store {
    /// Creates the database and applies every schema file not yet in the ledger.
    /// Returns the versions applied now (empty when the schema was current). A file whose
    /// text changed after it was applied is reported in the log, not re-applied: schema
    /// changes go in a new numbered file.
    ///
    /// # Errors
    /// The first statement ClickHouse rejects, or ClickHouse being unreachable.
    pub async fn migrate(&self) -> Result<Vec<u32>, StoreError> {
        self.server.query(&render_statement(CREATE_DATABASE, &self.database, &self.topology)).execute().await?;
        let applied = self.applied_migrations().await?;
        let mut now_applied = Vec::new();
        for migration in migrations() {
            if let Some(done) = applied.iter().find(|done| done.version == migration.version) {
                if done.checksum != checksum(migration) {
                    tracing::warn!(
                        version = migration.version,
                        name = migration.name,
                        "schema file changed after it was applied; put schema changes in a new numbered file"
                    );
                }
                continue;
            }
            for statement in statements(migration.sql) {
                let statement = render_statement(&statement, &self.database, &self.topology);
                self.server.query(&statement).execute().await?;
            }
            let mut insert = self.client.insert::<LedgerRow>("schema_migrations").await?;
            insert
                .write(&LedgerRow {
                    version: migration.version,
                    name: migration.name.to_string(),
                    checksum: checksum(migration),
                    applied_at: chrono::Utc::now().timestamp() as u32,
                })
                .await?;
            insert.end().await?;
            tracing::info!(version = migration.version, name = migration.name, "applied schema migration");
            now_applied.push(migration.version);
        }
        Ok(now_applied)
    }

    /// The ledger's rows; empty when the ledger does not exist yet.
    async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        let ledger_exists = self.server.query(LEDGER_EXISTS).bind(&self.database).fetch_one::<u64>().await? > 0;
        if !ledger_exists {
            return Ok(Vec::new());
        }
        self.client.query(APPLIED_MIGRATIONS).fetch_all().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_file_is_listed_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schema");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".sql"))
            .map(|name| name.trim_end_matches(".sql").to_string())
            .collect();
        files.sort();
        let listed: Vec<&str> = migrations().iter().map(|m| m.name).collect();
        assert_eq!(files, listed);
        for (index, migration) in migrations().iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1);
            assert!(migration.name.starts_with(&format!("{:04}_", migration.version)));
        }
    }

    #[test]
    fn single_server_rendering() {
        let sql = "CREATE TABLE IF NOT EXISTS {database}.sites {on_cluster} (v UInt64) ENGINE = {engine:ReplacingMergeTree(v)} ORDER BY v";
        assert_eq!(
            render_statement(sql, "ff", &Topology::Single),
            "CREATE TABLE IF NOT EXISTS ff.sites  (v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY v"
        );
    }

    #[test]
    fn cluster_rendering_uses_replicated_engines() {
        let sql = "CREATE TABLE IF NOT EXISTS {database}.events {on_cluster} (v UInt64) ENGINE = {engine:MergeTree()} ORDER BY v";
        assert_eq!(
            render_statement(sql, "ff", &Topology::Cluster("main".into())),
            "CREATE TABLE IF NOT EXISTS ff.events ON CLUSTER main (v UInt64) ENGINE = \
             ReplicatedMergeTree('/clickhouse/tables/{shard}/ff/events', '{replica}') ORDER BY v"
        );
        let sql = "CREATE TABLE IF NOT EXISTS {database}.sites (v UInt64) ENGINE = {engine:ReplacingMergeTree(v)}";
        assert_eq!(
            render_statement(sql, "ff", &Topology::Cluster("main".into())),
            "CREATE TABLE IF NOT EXISTS ff.sites (v UInt64) ENGINE = \
             ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/ff/sites', '{replica}', v)"
        );
    }

    #[test]
    fn statements_drop_comments_and_split() {
        let sql = "-- a comment; with a semicolon\nCREATE TABLE a (x UInt8) ENGINE = Memory;\nCREATE TABLE b (x UInt8) ENGINE = Memory\n";
        let got: Vec<String> = statements(sql).collect();
        assert_eq!(got, vec!["CREATE TABLE a (x UInt8) ENGINE = Memory", "CREATE TABLE b (x UInt8) ENGINE = Memory"]);
    }
}
