//! Schema migrations against the real server.

use footfall::store::{migrations, render_statement, Store, Topology};

use crate::helpers::test_settings;

/// `ALTER TABLE ... ADD COLUMN` has no `IF NOT EXISTS` on 18.16: a migration whose column
/// is already there (the ALTER ran, the ledger row was never written) must count as done.
#[tokio::test(flavor = "multi_thread")]
async fn a_column_added_before_its_ledger_row_counts_as_applied() {
    let settings = test_settings();
    let store = Store::new(&settings.clickhouse);
    let database = &settings.clickhouse.database;
    let server = clickhouse::Client::default().with_url(&settings.clickhouse.url).with_validation(false);
    server.query(&format!("CREATE DATABASE {database}")).execute().await.unwrap();
    let events = migrations().iter().find(|m| m.name == "0002_events").unwrap();
    let pageview = migrations().iter().find(|m| m.name == "0006_pageview").unwrap();
    for migration in [events, pageview] {
        let sql: String = migration.sql.lines().filter(|line| !line.starts_with("--")).collect::<Vec<_>>().join("\n");
        server.query(&render_statement(&sql, database, &Topology::Single)).execute().await.unwrap();
    }

    let applied = store.migrate().await.expect("migrate succeeds over the existing column");
    assert_eq!(applied, migrations().iter().map(|m| m.version).collect::<Vec<_>>());
    assert_eq!(store.migrate().await.unwrap(), Vec::<u32>::new());
    let columns: u64 = server
        .query("SELECT count() FROM system.columns WHERE database = ? AND table = 'events' AND name = 'pageview'")
        .bind(database.as_str())
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(columns, 1);
    server.query(&format!("DROP DATABASE {database}")).execute().await.unwrap();
}
