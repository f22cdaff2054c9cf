//! Rows are decoded by position (the clickhouse crate runs with validation off, as 18.16
//! requires), so every statement that fetches rows must return its row type's fields, in
//! order, with types the fields decode. This runs `DESCRIBE (query)` on a migrated
//! database for every entry of `reports::describe::every_fetching` (the registries in
//! `store::describe` and `reports::describe`) and compares (`Fetching::mismatch`), and
//! checks that no fetching statement is missing from them. `reports::compat` runs the
//! same comparison on current ClickHouse.

use std::collections::BTreeSet;

use footfall::reports::describe::every_fetching;
use footfall::store::describe::{described, fetching, Fetching};
use footfall::store::Store;

use crate::helpers::{register_site, test_settings};

/// Name and type of each column of `entry`'s result, as the server describes it.
async fn describe(store: &Store, entry: &Fetching) -> Vec<(String, String)> {
    let client = match &entry.database {
        Some(database) => store.client().clone().with_database(database),
        None => store.client().clone(),
    };
    let bytes = client
        .query(&entry.describe_sql())
        .fetch_bytes("TabSeparated")
        .unwrap()
        .collect()
        .await
        .unwrap_or_else(|error| panic!("{} does not run: {error}", entry.name));
    described(std::str::from_utf8(&bytes).unwrap())
}

#[tokio::test]
async fn every_query_returns_its_row_types_fields_in_order() {
    // Arrange
    let store = register_site(&test_settings()).await;
    let all = every_fetching(store.database());

    // Act
    let mut problems = Vec::new();
    for entry in &all {
        let columns = describe(&store, entry).await;
        problems.extend(entry.mismatch(&columns));
    }

    // Assert
    assert!(problems.is_empty(), "queries whose columns disagree with their row types:\n{}", problems.join("\n"));
    assert_eq!(all.len(), 17 + 3 * 41, "{:#?}", all.iter().map(|entry| &entry.name).collect::<Vec<_>>());
}

/// The first statement keyword of a `.sql` file (after its comments).
fn first_keyword(text: &str) -> String {
    let body = text.lines().find(|line| !line.trim().is_empty() && !line.trim_start().starts_with("--")).unwrap_or("");
    body.split_whitespace().next().unwrap_or("").to_ascii_uppercase()
}

#[test]
fn every_report_sql_file_that_fetches_rows_is_registered() {
    let names: Vec<String> = every_fetching("footfall").into_iter().map(|entry| entry.name).collect();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/reports/sql");
    let mut unregistered = BTreeSet::new();
    for file in std::fs::read_dir(dir).unwrap() {
        let path = file.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        if !["SELECT", "WITH"].contains(&first_keyword(&std::fs::read_to_string(&path).unwrap()).as_str()) {
            continue; // an INSERT, or a shared condition inlined into the queries
        }
        if !names.iter().any(|name| name.split(" + ").any(|part| part == file)) {
            unregistered.insert(file);
        }
    }
    assert_eq!(unregistered, BTreeSet::new(), "add these to reports::describe::fetching");
}

#[test]
fn every_store_constant_that_fetches_rows_is_registered() {
    let names: Vec<String> = fetching("footfall").into_iter().map(|entry| entry.name).collect();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store");
    let mut unregistered = BTreeSet::new();
    for file in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        // `const NAME: &str = "SELECT ...`, the value possibly on the next line.
        for (at, _) in text.match_indices("const ") {
            let rest = &text[at + "const ".len()..];
            let Some((name, value)) = rest.split_once(": &str =") else { continue };
            if name.contains(char::is_whitespace) {
                continue;
            }
            let value = value.trim_start().trim_start_matches('"');
            if value.starts_with("SELECT") || value.starts_with("WITH") {
                let name = name.to_string();
                if !names.iter().any(|entry| *entry == name || entry.starts_with(&format!("{name} ("))) {
                    unregistered.insert(name);
                }
            }
        }
    }
    assert_eq!(unregistered, BTreeSet::new(), "add these to store::describe::fetching");
}
