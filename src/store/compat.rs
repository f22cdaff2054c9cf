//! Test: every statement footfall sends to ClickHouse also runs on current ClickHouse.
//!
//! The integration tests run everything against the 18.16 server; this runs the same
//! statements (the schema as migrations render it, a sample insert per table, and every
//! query `store` sends, with sample values bound) on ClickHouse 26 in-process, through
//! `scripts/chdb-check` and the `chdb-core` Python package.
//!
//! Where python3 cannot import chdb, the chdb checks (every test that calls
//! [`check_on_chdb`]) print that they did not run and pass, so plain `cargo test` works
//! on a fresh clone; with `REQUIRE_CHDB=1` (scripts/test sets it; its `chdb`
//! step installs chdb-core) they fail instead.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::content::{PAGES_PUBLISHED_IN, PUBLISH_TIMES};
use super::day_keys::{DAYS_BEFORE, DROP_DAY, SELECT_DAY_KEYS};
use super::events::STORED_EVENT_IDS;
use super::goals::{LIST_FUNNELS, LIST_GOALS};
use super::migrate::{statements, APPLIED_MIGRATIONS, CREATE_DATABASE, LEDGER_EXISTS};
use super::retention::{
    for_table, COUNT_OLDER, DELETE_OLDER, DELETE_VISITORS, DROP_MONTH, OLD_MONTHS, SERVER_VERSION, SET_TTL,
    VISITOR_TABLES,
};
use super::sites::LIST_SITES;
use super::tokens::LIST_TOKENS;
use super::{
    keys_database, migrations, render_statement, schema_statements, EventRow, Topology, CLUSTER_SETTINGS, PING,
};

const DATABASE: &str = "footfall";

/// `sql` with `?` bound to `args` exactly as the clickhouse crate binds them.
fn bound<T: clickhouse::sql::Bind + Copy>(sql: &str, args: &[T]) -> String {
    let mut query = clickhouse::Client::default().query(sql);
    for arg in args {
        query = query.bind(*arg);
    }
    query.sql_display().to_string()
}

/// Queries on footfall's tables run with the database as default; qualify them here.
fn in_database(sql: &str) -> String {
    let keys = keys_database(DATABASE);
    ["schema_migrations", "sites", "events", "report_tokens", "content", "goals", "funnels"]
        .iter()
        .fold(sql.to_string(), |sql, table| sql.replace(&format!("FROM {table}"), &format!("FROM {DATABASE}.{table}")))
        .replace("FROM day_keys", &format!("FROM {keys}.day_keys"))
}

/// The retention and forget statements for every table of `VISITOR_TABLES`, as `topology`
/// renders them.
fn visitor_table_statements(topology: &Topology) -> Vec<String> {
    let mut all = Vec::new();
    for table in VISITOR_TABLES {
        if *topology == Topology::Single {
            let single = |template: &str| render_statement(&for_table(template, table), DATABASE, topology);
            all.push(bound(&single(OLD_MONTHS), &[1_764_547_200u32]));
            all.push(bound(&single(COUNT_OLDER), &[202_511u32, 1_764_000_000]));
        }
        let render = |template: &str| render_statement(&for_table(template, table), DATABASE, topology);
        all.push(bound(&render(DROP_MONTH), &[202_511u32]));
        all.push(bound(&render(DELETE_OLDER), &[1_764_000_000u32]));
        all.push(bound(&render(SET_TTL), &[30u32]));
        all.push(
            clickhouse::Client::default()
                .query(&render(DELETE_VISITORS))
                .bind("example.com")
                .bind([1u64, 2].as_slice())
                .sql_display()
                .to_string(),
        );
    }
    all
}

/// The schema on one server, database `database`: the statements migrations send.
pub(crate) fn schema(database: &str) -> Vec<String> {
    let mut all = vec![render_statement(CREATE_DATABASE, database, &Topology::Single)];
    for migration in migrations() {
        all.extend(statements(migration.sql).map(|sql| render_statement(&sql, database, &Topology::Single)));
    }
    all
}

fn every_statement() -> Vec<String> {
    let mut all = schema(DATABASE);
    let event = serde_json::to_string(&EventRow {
        site: "example.com".into(),
        ts: 1_764_000_000,
        published: Some(1_763_990_000),
        prop_keys: vec!["plan".into()],
        prop_values: vec!["pro".into()],
        ..EventRow::default()
    })
    .unwrap();
    all.push(format!("INSERT INTO {DATABASE}.events FORMAT JSONEachRow {event}"));
    all.push(format!(
        "INSERT INTO {DATABASE}.sites FORMAT JSONEachRow \
         {{\"domain\":\"example.com\",\"timezone\":\"UTC\",\"origins\":[],\"deleted\":0,\"version\":1}}"
    ));
    all.push(format!(
        "INSERT INTO {DATABASE}.schema_migrations FORMAT JSONEachRow \
         {{\"version\":1,\"name\":\"0001\",\"checksum\":\"x\",\"applied_at\":0}}"
    ));
    all.push(PING.to_string());
    all.push(bound(LEDGER_EXISTS, &[DATABASE]));
    all.push(in_database(APPLIED_MIGRATIONS));
    all.push(in_database(LIST_SITES));
    all.push(format!(
        "INSERT INTO {DATABASE}.goals FORMAT JSONEachRow \
         {{\"site\":\"example.com\",\"name\":\"Signup\",\"kind\":\"event\",\"target\":\"signup\",\"changed\":1,\"removed\":0}}"
    ));
    all.push(bound(&in_database(LIST_GOALS), &["example.com", "example.com"]));
    all.push(format!(
        "INSERT INTO {DATABASE}.funnels FORMAT JSONEachRow \
         {{\"site\":\"example.com\",\"name\":\"F\",\"steps\":[\"A\",\"B\"],\"changed\":1,\"removed\":0}}"
    ));
    all.push(bound(&in_database(LIST_FUNNELS), &["example.com", "example.com"]));
    all.push(in_database(&bound(
        STORED_EVENT_IDS,
        &[1u64, 1 << 20, 1_764_000_000, 1_764_000_100, 1_764_000_000, 1_764_000_100],
    )));
    all.push(format!(
        "INSERT INTO {DATABASE}.report_tokens FORMAT JSONEachRow \
         {{\"id\":\"0123456789ab\",\"site\":\"example.com\",\"hash\":\"{}\",\"label\":\"ci\",\"created_at\":0,\"revoked\":0,\"version\":1}}",
        "f".repeat(64)
    ));
    all.push(in_database(LIST_TOKENS));
    all.push(in_database(&bound(SELECT_DAY_KEYS, &[20_000u16, 20_001])));
    all.push(format!(
        "INSERT INTO {}.day_keys FORMAT JSONEachRow {{\"day\":\"2024-10-04\",\"key\":\"{}\",\"created_at\":0}}",
        keys_database(DATABASE),
        "k".repeat(32)
    ));
    all.push(in_database(&bound(DAYS_BEFORE, &[20_000u16])));
    all.push(bound(&render_statement(DROP_DAY, DATABASE, &Topology::Single), &["2024-10-04"]));
    all.extend(visitor_table_statements(&Topology::Single));
    all.push(SERVER_VERSION.to_string());
    all.push(format!(
        "INSERT INTO {DATABASE}.content FORMAT JSONEachRow \
         {{\"site\":\"example.com\",\"path\":\"/blog/hello\",\"published\":1763990000,\"title\":\"Hello\",\"registered\":1}}"
    ));
    all.push(in_database(&bound(PUBLISH_TIMES, &["example.com"])));
    all.push(in_database(
        &clickhouse::Client::default()
            .query(PAGES_PUBLISHED_IN)
            .bind("example.com")
            .bind(1_763_900_000u32)
            .bind(1_764_000_000u32)
            .sql_display()
            .to_string(),
    ));
    all
}

/// A server config for chdb with a cluster named like the one below and the macros
/// replicated tables use. Its one shard points at a port nothing listens on: nothing here
/// reads or writes through a `Distributed` table (those queries are the ones above).
const CLUSTER_CONFIG: &str = "<clickhouse>\
    <macros><shard>01</shard><replica>chdb</replica></macros>\
    <remote_servers><footfall><shard><internal_replication>true</internal_replication>\
    <replica><host>127.0.0.1</host><port>1</port></replica></shard></footfall></remote_servers>\
    </clickhouse>";

/// A cluster statement as chdb can run it: without `ON CLUSTER` (chdb is no cluster member)
/// and with `ReplicatedKind('path', 'replica', args)` as `Kind(args)` (chdb has no
/// ZooKeeper). Both are exercised on the 18.16 cluster by tests/api/cluster.rs.
fn without_cluster_machinery(sql: &str) -> String {
    let mut out = sql.replace(" ON CLUSTER footfall", "");
    while let Some(start) = out.find("Replicated") {
        let open = start + out[start..].find('(').expect("a replicated engine has arguments");
        let replica = open + out[open..].find("'{replica}'").expect("a replicated engine names its replica");
        let rest = out[replica + "'{replica}'".len()..].trim_start_matches(',').trim_start().to_string();
        out = format!("{}{}({rest}", &out[..start], &out[start + "Replicated".len()..open]);
    }
    out
}

/// Every statement footfall sends in cluster mode that differs from one server's: the
/// schema (local tables, `Distributed` tables, views over local tables, a column change
/// remaking a `Distributed` table), mutations and partition drops on local tables, and
/// the cluster query settings.
fn every_cluster_statement() -> Vec<String> {
    let cluster = Topology::Cluster("footfall".into());
    let mut all: Vec<String> = schema_statements(CREATE_DATABASE, DATABASE, &cluster);
    for migration in migrations() {
        all.extend(statements(migration.sql).flat_map(|sql| schema_statements(&sql, DATABASE, &cluster)));
    }
    all.push(bound(&render_statement(DROP_DAY, DATABASE, &cluster), &["2024-10-04"]));
    all.extend(visitor_table_statements(&cluster));
    let settings: Vec<String> = CLUSTER_SETTINGS
        .iter()
        .map(
            |(name, value)| {
                if value.parse::<u64>().is_ok() {
                    format!("{name} = {value}")
                } else {
                    format!("{name} = '{value}'")
                }
            },
        )
        .collect();
    all.push(format!("SELECT 1 SETTINGS {}", settings.join(", ")));
    // Backfills (`INSERT ... SELECT` in a migration) read and write Distributed tables,
    // which chdb cannot reach without the cluster's servers; they run unchanged in the
    // single-server check, and on the real 18.16 cluster in tests/api/cluster.rs.
    all.iter().filter(|sql| !sql.trim_start().starts_with("INSERT")).map(|sql| without_cluster_machinery(sql)).collect()
}

/// Set to `1`, the chdb checks fail where they cannot run instead of passing as not run.
/// (Not `FOOTFALL_`: that prefix is footfall's configuration, which rejects unknown keys.)
const REQUIRE_CHDB: &str = "REQUIRE_CHDB";

/// Why the chdb checks cannot run here, if they cannot (asked of python3 once per run).
fn chdb_missing() -> Option<&'static str> {
    static MISSING: OnceLock<Option<&'static str>> = OnceLock::new();
    *MISSING.get_or_init(|| {
        let import = Command::new("python3").args(["-c", "import chdb"]).stderr(Stdio::null()).status();
        match import {
            Err(_) => Some("python3 is not installed"),
            Ok(status) if !status.success() => Some("python3 has no chdb-core package"),
            Ok(_) => None,
        }
    })
}

/// Runs `statements` through scripts/chdb-check (with `config` as the server config) and
/// fails the test unless every one passed; returns each statement's result as
/// `TabSeparated` text. Returns `None` where chdb cannot run (see the module header).
pub(crate) fn check_on_chdb(statements: &[String], config: Option<&str>) -> Option<Vec<String>> {
    if let Some(missing) = chdb_missing() {
        let message = format!("chdb checks NOT RUN: {missing} (scripts/test installs python3 and chdb-core)");
        let required = std::env::var_os(REQUIRE_CHDB).is_some_and(|value| value == "1");
        assert!(!required, "{message}, and {REQUIRE_CHDB}=1 requires them");
        let test = std::thread::current().name().unwrap_or("a test").to_string();
        // Straight to stderr, not `eprintln!`: the test harness would hide that for a test
        // that passes.
        writeln!(std::io::stderr(), "{test}: {message}").unwrap();
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/chdb-check");
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let mut command = Command::new("python3");
    command.arg(script).arg("--results").arg(&results);
    if let Some(config) = config {
        let path = dir.path().join("config.xml");
        std::fs::write(&path, config).unwrap();
        command.arg("--config").arg(path);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs scripts/chdb-check");
    child.stdin.take().unwrap().write_all(serde_json::to_string(statements).unwrap().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let results = std::fs::read(&results);
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("{report}");
    assert!(output.status.success(), "statements failed on current ClickHouse:\n{report}");
    assert!(report.contains(&format!("{} passed, 0 failed", statements.len())), "{report}");
    Some(serde_json::from_slice(&results.unwrap()).unwrap())
}

#[test]
fn every_statement_runs_on_current_clickhouse() {
    check_on_chdb(&every_statement(), None);
}

#[test]
fn every_cluster_statement_runs_on_current_clickhouse() {
    check_on_chdb(&every_cluster_statement(), Some(CLUSTER_CONFIG));
}
