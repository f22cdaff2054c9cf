//! Schema migrations: the numbered `.sql` files in `schema/`, compiled into the binary and
//! applied in order by `footfall migrate` and at `serve` start.
//!
//! Applying is idempotent: every statement is `CREATE ... IF NOT EXISTS` or an
//! `ALTER TABLE ... ADD COLUMN` that counts as done when the column exists (18.16 has no
//! `ADD COLUMN IF NOT EXISTS`), applied versions are recorded in `schema_migrations`, and
//! two nodes migrating at once do no harm.
//!
//! Files use four placeholders, filled in one place ([`schema_statements`],
//! [`render_statement`]) so the same schema serves one server or a cluster:
//! - `{database}`: footfall's database;
//! - `{keys_database}`: the database of the day keys ([`keys_database`]);
//! - `{on_cluster}`: empty, or `ON CLUSTER name`;
//! - `{engine:Kind(args)}`: `Kind(args)` on one server, or
//!   `ReplicatedKind('/clickhouse/tables/{shard}/db/table_local', '{replica}', args)` on a
//!   cluster.
//!
//! On a cluster ([`Topology::Cluster`]) every table `T` of a schema file becomes two:
//! `T_local`, a `Replicated*` table on every server (`ON CLUSTER`) that holds the rows of
//! its shard, and `T`, a `Distributed` table over them with the sharding key from
//! [`sharding_key`]. Everything footfall and its users read and write goes through `T`,
//! under the same name as on one server, so no query changes. What must reach the rows
//! themselves goes to `T_local` on every server: materialized views (which see each
//! server's inserts into `events_local`), mutations and partition drops; `DROP TABLE`
//! removes both. A column change
//! (`ALTER ... ADD COLUMN`) is applied to `T_local`, then `T` is dropped and created again
//! with the new columns: ClickHouse refuses `ALTER ... ON CLUSTER` on a `Distributed`
//! table of a cluster with `internal_replication` (on 18.16 and today).

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
        5 => "0005_events_event_id",
        6 => "0006_pageview",
        7 => "0007_report_rollups",
        8 => "0008_report_tokens",
        9 => "0009_site_consent",
        10 => "0010_events_plain_strings",
        11 => "0011_day_keys_apart",
        12 => "0012_site_privacy",
        13 => "0013_token_kind",
        14 => "0014_not_stored",
        15 => "0015_events_scroll",
        16 => "0016_content",
        17 => "0017_page_engagement",
        18 => "0018_goals",
        19 => "0019_share_filters",
        20 => "0020_page_histograms",
    ]
}

/// Where the schema lives: one server, or a named cluster with replicated tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// One ClickHouse server: plain engines, no `ON CLUSTER`.
    Single,
    /// A cluster from the servers' `remote_servers`: local `Replicated*` tables created
    /// `ON CLUSTER`, `Distributed` tables over them.
    Cluster(String),
}

impl Topology {
    /// `Cluster` when a cluster name is configured.
    pub fn from_cluster(cluster: Option<String>) -> Self {
        cluster.map_or(Self::Single, Self::Cluster)
    }
}

/// Suffix of the per-server table that holds a shard's rows on a cluster.
const LOCAL_SUFFIX: &str = "_local";

/// How each table's rows are spread over the shards of a cluster: the sharding key of
/// its `Distributed` table. Tables not listed are spread at random (`rand()`).
///
/// `events` by visitor hash: all events of one visitor of one site (the hash is keyed
/// with the site) land on one shard, so per-shard distinct-visitor counts add up to the
/// exact total and a visitor's sessions stay on one shard. The small shared tables keep
/// all versions of one row on one shard, so `FINAL` and `argMax` see them together (and
/// a page's registrations in `content` meet in one merge).
const SHARDING_KEYS: &[(&str, &str)] = &[
    ("events", "visitor"),
    ("sites", "cityHash64(domain)"),
    ("day_keys", "toUInt16(day)"),
    ("schema_migrations", "version"),
    ("content", "cityHash64(site, path)"),
    ("goals", "cityHash64(site, name)"),
    ("funnels", "cityHash64(site, name)"),
];

/// The sharding key of `table`'s `Distributed` table.
fn sharding_key(table: &str) -> &'static str {
    SHARDING_KEYS.iter().find(|(name, _)| *name == table).map_or("rand()", |(_, key)| key)
}

/// What a schema statement does, by its first words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatementKind {
    /// `CREATE TABLE` with an `{engine:...}`: a table that holds rows.
    CreateTable,
    /// `CREATE MATERIALIZED VIEW`: fed by inserts into the tables it reads.
    CreateView,
    /// `ALTER TABLE ... ADD|DROP|MODIFY|RENAME COLUMN`: changes the columns.
    AlterColumns,
    /// Any other `ALTER TABLE` (partitions, mutations, TTL): works on the rows.
    AlterRows,
    /// `DROP TABLE`: on a cluster, the `Distributed` table and its local tables.
    DropTable,
    /// Anything else (`CREATE DATABASE`, `INSERT ... SELECT`): runs as written.
    Other,
}

fn kind(sql: &str) -> StatementKind {
    let words = sql.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase();
    let changes_columns = || {
        [" ADD COLUMN ", " DROP COLUMN ", " MODIFY COLUMN ", " RENAME COLUMN "]
            .iter()
            .any(|change| words.contains(change))
    };
    if words.starts_with("CREATE TABLE") && sql.contains("{engine:") {
        StatementKind::CreateTable
    } else if words.starts_with("CREATE MATERIALIZED VIEW") {
        StatementKind::CreateView
    } else if words.starts_with("ALTER TABLE") && changes_columns() {
        StatementKind::AlterColumns
    } else if words.starts_with("ALTER TABLE") {
        StatementKind::AlterRows
    } else if words.starts_with("DROP TABLE") {
        StatementKind::DropTable
    } else {
        StatementKind::Other
    }
}

/// A table named in a schema statement: `{database}.NAME` or `{keys_database}.NAME`.
struct TableReference {
    /// Byte range of `NAME` in the statement.
    range: std::ops::Range<usize>,
    name: String,
    /// True for a table of the keys database.
    in_keys_database: bool,
}

impl TableReference {
    /// The database the table lives in.
    fn database(&self, database: &str) -> String {
        if self.in_keys_database {
            keys_database(database)
        } else {
            database.to_string()
        }
    }
}

/// The database that holds the day keys beside footfall's `database`: `<database>_keys`.
/// Nothing but the collector's own user needs to read it (docs/privacy.md, "Query ClickHouse directly").
pub fn keys_database(database: &str) -> String {
    format!("{database}_keys")
}

/// The tables after each `{database}.` and `{keys_database}.` in `sql`, in order.
fn table_references(sql: &str) -> Vec<TableReference> {
    let mut found = Vec::new();
    for (placeholder, in_keys_database) in [("{database}.", false), ("{keys_database}.", true)] {
        let mut from = 0;
        while let Some(at) = sql[from..].find(placeholder) {
            let start = from + at + placeholder.len();
            let name: String = sql[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            found.push(TableReference { range: start..start + name.len(), name, in_keys_database });
            from = start;
        }
    }
    found.sort_by_key(|reference| reference.range.start);
    found
}

/// `sql` with the table references chosen by `to_local` renamed to their local tables.
fn with_local_tables(sql: &str, to_local: impl Fn(usize) -> bool) -> String {
    let mut out = sql.to_string();
    for (index, reference) in table_references(sql).into_iter().enumerate().rev() {
        if to_local(index) {
            out.replace_range(reference.range, &format!("{}{LOCAL_SUFFIX}", reference.name));
        }
    }
    out
}

/// Fills `{on_cluster}`, `{engine:...}`, `{database}` and `{keys_database}`.
fn fill(sql: &str, database: &str, topology: &Topology) -> String {
    let first = table_references(sql).into_iter().next();
    let table = first.as_ref().map(|reference| reference.name.clone()).unwrap_or_default();
    let table_database = first.as_ref().map_or_else(|| database.to_string(), |reference| reference.database(database));
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
                let path = format!("'/clickhouse/tables/{{shard}}/{table_database}/{table}', '{{replica}}'");
                let sep = if args.is_empty() { "" } else { ", " };
                format!("Replicated{kind}({path}{sep}{args})")
            }
        };
        out.replace_range(start..=end, &engine);
    }
    out.replace("{keys_database}", &keys_database(database)).replace("{database}", database)
}

/// The `Distributed` table `table` over `table_local` on every server of `cluster`.
fn distributed_table(table: &str, database: &str, cluster: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {database}.{table} ON CLUSTER {cluster} AS {database}.{table}{LOCAL_SUFFIX} \
         ENGINE = Distributed({cluster}, {database}, {table}{LOCAL_SUFFIX}, {})",
        sharding_key(table)
    )
}

/// One statement on the tables that hold the rows: on one server the statement as
/// written; on a cluster its first table renamed to the local table (`events_local`),
/// on every server. For mutations, partition drops and TTL changes (`ALTER TABLE
/// {database}.T {on_cluster} ...`). Schema files go through [`schema_statements`].
pub fn render_statement(sql: &str, database: &str, topology: &Topology) -> String {
    match topology {
        Topology::Single => fill(sql, database, topology),
        Topology::Cluster(_) => fill(&with_local_tables(sql, |index| index == 0), database, topology),
    }
}

/// The statements that carry out one statement of a schema file. On one server, the
/// statement with its placeholders filled. On a cluster (see the module docs): a table
/// becomes its local table plus a `Distributed` table; a view reads and writes local
/// tables; a column change is made on the local table and the `Distributed` table is made
/// again; other `ALTER`s go to the local tables; the rest runs as written.
pub fn schema_statements(sql: &str, database: &str, topology: &Topology) -> Vec<String> {
    let Topology::Cluster(cluster) = topology else {
        return vec![fill(sql, database, topology)];
    };
    let first = table_references(sql).into_iter().next();
    let table = first.as_ref().map(|reference| reference.name.clone()).unwrap_or_default();
    let table_database = first.as_ref().map_or_else(|| database.to_string(), |reference| reference.database(database));
    match kind(sql) {
        StatementKind::CreateTable => {
            vec![render_statement(sql, database, topology), distributed_table(&table, &table_database, cluster)]
        }
        StatementKind::CreateView => vec![fill(&with_local_tables(sql, |index| index > 0), database, topology)],
        StatementKind::AlterColumns => vec![
            render_statement(sql, database, topology),
            format!("DROP TABLE IF EXISTS {table_database}.{table} ON CLUSTER {cluster}"),
            distributed_table(&table, &table_database, cluster),
        ],
        StatementKind::AlterRows => vec![render_statement(sql, database, topology)],
        StatementKind::DropTable => vec![fill(sql, database, topology), render_statement(sql, database, topology)],
        StatementKind::Other => vec![fill(sql, database, topology)],
    }
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
    "SELECT version, any(checksum) AS checksum FROM schema_migrations GROUP BY version ORDER BY version";

#[derive(Row, Deserialize)]
pub(super) struct AppliedMigration {
    version: u32,
    checksum: String,
}

/// True when `statement` adds a column and ClickHouse refused because it exists (18.16
/// says so with code 44, current releases with code 15; the text is the same).
fn adds_existing_column(statement: &str, error: &StoreError) -> bool {
    statement.contains(" ADD COLUMN ") && error.to_string().contains("column with this name already exists")
}

/// True when ClickHouse refused a statement because a table does not exist (code 60)
/// that `migration` itself drops (`DROP TABLE IF EXISTS {database}.T`): a table moved
/// elsewhere by the migration, which another node finished moving first.
fn copies_from_a_dropped_table(migration: &str, error: &StoreError) -> bool {
    error.code() == Some(60)
        && statements(migration).any(|statement| {
            let Some(table) = statement.strip_prefix("DROP TABLE IF EXISTS {database}.") else { return false };
            let table = table.split_whitespace().next().unwrap_or_default();
            error.to_string().contains(&format!(".{table} doesn't exist"))
        })
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
        let applied = self.applied_migrations().await?;
        if applied.is_empty() {
            // Only then: on a cluster, DDL waits for every server, and a collector must be able
            // to start while one is down once the schema is in place.
            for statement in schema_statements(CREATE_DATABASE, &self.database, &self.topology) {
                self.server.query(&statement).execute().await?;
            }
        }
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
            for statement in
                statements(migration.sql).flat_map(|sql| schema_statements(&sql, &self.database, &self.topology))
            {
                match self.server.query(&statement).execute().await.map_err(StoreError::from) {
                    Ok(()) => {}
                    // The column is there: this ran before, but its ledger row was not written
                    // (a crash in between, or another node migrating at the same time).
                    Err(error) if adds_existing_column(&statement, &error) => {
                        tracing::info!(version = migration.version, "column already added; continuing");
                    }
                    // The table this copies from is gone: another node ran this migration
                    // up to its `DROP TABLE` at the same time, after copying.
                    Err(error) if copies_from_a_dropped_table(migration.sql, &error) => {
                        tracing::info!(version = migration.version, "table already moved; continuing");
                    }
                    Err(error) => return Err(error),
                }
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
        self.client.query(APPLIED_MIGRATIONS).fetch_all().await.map_err(StoreError::from)
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

    fn cluster() -> Topology {
        Topology::Cluster("main".into())
    }

    #[test]
    fn a_cluster_table_is_a_replicated_local_table_and_a_distributed_table() {
        let sql = "CREATE TABLE IF NOT EXISTS {database}.events {on_cluster} (visitor UInt64) ENGINE = {engine:MergeTree()} ORDER BY visitor";
        assert_eq!(
            schema_statements(sql, "ff", &cluster()),
            vec![
                "CREATE TABLE IF NOT EXISTS ff.events_local ON CLUSTER main (visitor UInt64) ENGINE = \
                 ReplicatedMergeTree('/clickhouse/tables/{shard}/ff/events_local', '{replica}') ORDER BY visitor",
                "CREATE TABLE IF NOT EXISTS ff.events ON CLUSTER main AS ff.events_local \
                 ENGINE = Distributed(main, ff, events_local, visitor)",
            ]
        );
        let sql = "CREATE TABLE IF NOT EXISTS {database}.sites {on_cluster} (domain String, v UInt64) ENGINE = {engine:ReplacingMergeTree(v)}";
        assert_eq!(
            schema_statements(sql, "ff", &cluster()),
            vec![
                "CREATE TABLE IF NOT EXISTS ff.sites_local ON CLUSTER main (domain String, v UInt64) ENGINE = \
                 ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/ff/sites_local', '{replica}', v)",
                "CREATE TABLE IF NOT EXISTS ff.sites ON CLUSTER main AS ff.sites_local \
                 ENGINE = Distributed(main, ff, sites_local, cityHash64(domain))",
            ]
        );
    }

    #[test]
    fn tables_without_a_listed_key_are_spread_at_random() {
        assert_eq!(sharding_key("site_quarters"), "rand()");
        assert_eq!(sharding_key("events"), "visitor");
    }

    #[test]
    fn a_cluster_view_reads_and_writes_local_tables() {
        let sql = "CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.counts_mv {on_cluster} TO {database}.counts \
                   AS SELECT site, count() AS n FROM {database}.events GROUP BY site";
        assert_eq!(
            schema_statements(sql, "ff", &cluster()),
            vec![
                "CREATE MATERIALIZED VIEW IF NOT EXISTS ff.counts_mv ON CLUSTER main TO ff.counts_local \
                  AS SELECT site, count() AS n FROM ff.events_local GROUP BY site"
            ]
        );
    }

    #[test]
    fn a_cluster_column_change_remakes_the_distributed_table() {
        let sql = "ALTER TABLE {database}.events {on_cluster} ADD COLUMN event_id UInt64 DEFAULT 0";
        assert_eq!(
            schema_statements(sql, "ff", &cluster()),
            vec![
                "ALTER TABLE ff.events_local ON CLUSTER main ADD COLUMN event_id UInt64 DEFAULT 0",
                "DROP TABLE IF EXISTS ff.events ON CLUSTER main",
                "CREATE TABLE IF NOT EXISTS ff.events ON CLUSTER main AS ff.events_local \
                 ENGINE = Distributed(main, ff, events_local, visitor)",
            ]
        );
        assert_eq!(
            schema_statements(sql, "ff", &Topology::Single),
            vec!["ALTER TABLE ff.events  ADD COLUMN event_id UInt64 DEFAULT 0"]
        );
    }

    #[test]
    fn cluster_mutations_and_partition_drops_go_to_the_local_tables_everywhere() {
        let sql = "ALTER TABLE {database}.day_keys {on_cluster} DROP PARTITION ?";
        assert_eq!(
            render_statement(sql, "ff", &cluster()),
            "ALTER TABLE ff.day_keys_local ON CLUSTER main DROP PARTITION ?"
        );
        assert_eq!(schema_statements(sql, "ff", &cluster()), vec![render_statement(sql, "ff", &cluster())]);
        assert_eq!(render_statement(sql, "ff", &Topology::Single), "ALTER TABLE ff.day_keys  DROP PARTITION ?");
    }

    #[test]
    fn other_statements_run_as_written_on_a_cluster() {
        assert_eq!(
            schema_statements(CREATE_DATABASE, "ff", &cluster()),
            vec!["CREATE DATABASE IF NOT EXISTS ff ON CLUSTER main"]
        );
        let backfill = "INSERT INTO {database}.counts SELECT site, count() FROM {database}.events GROUP BY site";
        assert_eq!(
            schema_statements(backfill, "ff", &cluster()),
            vec!["INSERT INTO ff.counts SELECT site, count() FROM ff.events GROUP BY site"]
        );
    }

    #[test]
    fn every_schema_statement_renders_on_a_cluster() {
        for migration in migrations() {
            for statement in statements(migration.sql) {
                for rendered in schema_statements(&statement, "ff", &cluster()) {
                    let rendered = rendered.split_whitespace().collect::<Vec<_>>().join(" ");
                    assert!(!rendered.contains('{') || rendered.contains("'{replica}'"), "{rendered}");
                    let names_cluster =
                        format!("{rendered} ").contains(" ON CLUSTER main ") || rendered.starts_with("INSERT");
                    assert!(names_cluster, "DDL that would reach one server only: {rendered}");
                }
            }
        }
    }

    #[test]
    fn a_copy_from_a_table_the_migration_drops_counts_as_done_once_it_is_gone() {
        let moved = migrations().iter().find(|m| m.name == "0011_day_keys_apart").unwrap().sql;
        let gone = |table: &str| StoreError::Server {
            code: Some(60),
            message: format!("Code: 60, e.displayText() = DB::Exception: Table db.{table} doesn't exist."),
        };
        assert!(copies_from_a_dropped_table(moved, &gone("day_keys")));
        assert!(!copies_from_a_dropped_table(moved, &gone("events")), "a table it does not drop");
        let other = StoreError::Server { code: Some(81), message: "Database db doesn't exist".into() };
        assert!(!copies_from_a_dropped_table(moved, &other));
    }

    #[test]
    fn statements_drop_comments_and_split() {
        let sql = "-- a comment; with a semicolon\nCREATE TABLE a (x UInt8) ENGINE = Memory;\nCREATE TABLE b (x UInt8) ENGINE = Memory\n";
        let got: Vec<String> = statements(sql).collect();
        assert_eq!(got, vec!["CREATE TABLE a (x UInt8) ENGINE = Memory", "CREATE TABLE b (x UInt8) ENGINE = Memory"]);
    }
}
