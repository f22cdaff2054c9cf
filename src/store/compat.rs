//! Test: every statement footfall sends to ClickHouse also runs on current ClickHouse.
//!
//! The integration tests run everything against the 18.16 server; this runs the same
//! statements (the schema as migrations render it, a sample insert per table, and every
//! query `store` sends, with sample values bound) on ClickHouse 26 in-process, through
//! `scripts/chdb-check` and the `chdb-core` Python package.

use std::io::Write;
use std::process::{Command, Stdio};

use super::day_keys::{DAYS_BEFORE, DROP_DAY, SELECT_DAY_KEYS};
use super::migrate::{statements, APPLIED_MIGRATIONS, CREATE_DATABASE, LEDGER_EXISTS};
use super::sites::LIST_SITES;
use super::tokens::LIST_TOKENS;
use super::{migrations, render_statement, EventRow, Topology, PING};

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
    ["schema_migrations", "day_keys", "sites", "events", "report_tokens"]
        .iter()
        .fold(sql.to_string(), |sql, table| sql.replace(&format!("FROM {table}"), &format!("FROM {DATABASE}.{table}")))
}

fn every_statement() -> Vec<String> {
    let mut all = vec![render_statement(CREATE_DATABASE, DATABASE, &Topology::Single)];
    for migration in migrations() {
        all.extend(statements(migration.sql).map(|sql| render_statement(&sql, DATABASE, &Topology::Single)));
    }
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
        "INSERT INTO {DATABASE}.report_tokens FORMAT JSONEachRow \
         {{\"id\":\"0123456789ab\",\"site\":\"example.com\",\"hash\":\"{}\",\"label\":\"ci\",\"created_at\":0,\"revoked\":0,\"version\":1}}",
        "f".repeat(64)
    ));
    all.push(in_database(LIST_TOKENS));
    all.push(in_database(&bound(SELECT_DAY_KEYS, &[20_000u16, 20_001])));
    all.push(format!(
        "INSERT INTO {DATABASE}.day_keys FORMAT JSONEachRow {{\"day\":\"2024-10-04\",\"key\":\"{}\",\"created_at\":0}}",
        "k".repeat(32)
    ));
    all.push(in_database(&bound(DAYS_BEFORE, &[20_000u16])));
    all.push(bound(&render_statement(DROP_DAY, DATABASE, &Topology::Single), &["2024-10-04"]));
    all
}

#[test]
fn every_statement_runs_on_current_clickhouse() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/chdb-check");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs scripts/chdb-check");
    let statements = every_statement();
    child.stdin.take().unwrap().write_all(serde_json::to_string(&statements).unwrap().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("{report}");
    assert!(output.status.success(), "statements failed on current ClickHouse:\n{report}");
    assert!(report.contains(&format!("{} passed, 0 failed", statements.len())), "{report}");
}
