//! `POST /api/forget` as a mutation amplifier (issue 15): forget requests are rate-limited
//! per client and queued on disk; a round per `rights.forget_interval_secs` deletes all of
//! them with one mutation per visitor table, and the queue survives a restart.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use footfall::config::Settings;
use footfall::rights::QUEUE_DIR;
use footfall::store::{Store, VISITOR_TABLES};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{eventually_matches, metric, spawn_app_with, TestApp, CHROME_WINDOWS, SITE};

/// The interval of the tests that send a burst: long enough that the burst fits in it
/// on a loaded machine, short enough for the suite.
const BURST_INTERVAL_SECS: u64 = 3;
/// An interval no test waits for: nothing queued is applied while the app runs.
const NEVER_SECS: u64 = 3600;

fn event(path: &str, cookie: &str) -> Value {
    json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}{path}"), "visitor": cookie})
}

async fn forget(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/forget", app.address))
        .header("User-Agent", CHROME_WINDOWS)
        .json(&json!({"site": SITE, "visitor": cookie}))
        .send()
        .await
        .unwrap()
}

fn queue_dir(settings: &Settings) -> PathBuf {
    settings.spool_dir.join(QUEUE_DIR)
}

/// Requests waiting on disk.
fn queued_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => {
            entries.map(|entry| entry.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
        }
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// Mutations ClickHouse was given on the store's database, per table.
async fn mutations(store: &Store) -> Vec<(String, u64)> {
    store
        .client()
        .query("SELECT table, count() FROM system.mutations WHERE database = ? GROUP BY table ORDER BY table")
        .bind(store.database())
        .fetch_all()
        .await
        .unwrap()
}

/// One mutation on each visitor table.
fn one_per_table() -> Vec<(String, u64)> {
    let mut expected: Vec<(String, u64)> = VISITOR_TABLES.iter().map(|table| (table.to_string(), 1)).collect();
    expected.sort();
    expected
}

/// Rows of `table` whose path starts with `prefix`.
async fn rows(store: &Store, table: &str, prefix: &str) -> u64 {
    store
        .client()
        .query(&format!("SELECT count() FROM {}.{table} WHERE startsWith(path, ?)", store.database()))
        .bind(prefix)
        .fetch_one()
        .await
        .unwrap()
}

/// Polls until no visitor table holds a row under `prefix` and the queue is empty.
async fn wait_until_forgotten(app: &TestApp, prefix: &str) {
    eventually_matches(
        format!("(rows under {prefix} in {VISITOR_TABLES:?}, requests queued) are not all zero"),
        |(left, queued): &(Vec<u64>, usize)| left.iter().all(|&n| n == 0) && *queued == 0,
        || async {
            let mut left = Vec::new();
            for table in VISITOR_TABLES {
                left.push(rows(&app.store, table, prefix).await);
            }
            (left, queued_files(&queue_dir(&app.settings)).len())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forty_forget_requests_in_one_interval_make_one_mutation_per_table() {
    let app = spawn_app_with(|settings| settings.rights.forget_interval_secs = BURST_INTERVAL_SECS).await;
    let mut events: Vec<Value> = (0..40).map(|i| event(&format!("/forgotten/{i}"), &format!("visitor-{i}"))).collect();
    events.extend((0..3).map(|i| event(&format!("/kept/{i}"), &format!("keeper-{i}"))));
    assert_eq!(app.post_events(&events).await.status().as_u16(), 202);
    app.wait_for_events(43).await;
    assert_eq!(mutations(&app.store).await, vec![]);

    let started = Instant::now();
    let answers = join_all((0..40).map(|i| {
        let cookie = format!("visitor-{i}");
        let app = &app;
        async move { forget(app, &cookie).await.status().as_u16() }
    }))
    .await;
    assert!(started.elapsed() < Duration::from_secs(BURST_INTERVAL_SECS), "the burst took {:?}", started.elapsed());
    assert_eq!(answers, vec![202; 40]);
    assert_eq!(queued_files(&queue_dir(&app.settings)).len(), 40, "accepted requests wait on disk");

    wait_until_forgotten(&app, "/forgotten/").await;
    assert_eq!(mutations(&app.store).await, one_per_table(), "40 requests, one deletion per table");
    for table in VISITOR_TABLES {
        assert_eq!(rows(&app.store, table, "/kept/").await, 3, "{table}: the other visitors stay");
    }
    assert_eq!(metric(&app.metrics().await, "footfall_forget_requests_total"), 40);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_forget_request_forty_times_makes_one_mutation_per_table() {
    let app = spawn_app_with(|settings| settings.rights.forget_interval_secs = BURST_INTERVAL_SECS).await;
    let events = [event("/alice/1", "alice"), event("/alice/2", "alice"), event("/bob/1", "bob")];
    assert_eq!(app.post_events(&events).await.status().as_u16(), 202);
    app.wait_for_events(3).await;

    let started = Instant::now();
    let answers = join_all((0..40).map(|_| async { forget(&app, "alice").await.status().as_u16() })).await;
    assert!(started.elapsed() < Duration::from_secs(BURST_INTERVAL_SECS), "the burst took {:?}", started.elapsed());
    assert_eq!(answers, vec![202; 40]);

    wait_until_forgotten(&app, "/alice/").await;
    assert_eq!(mutations(&app.store).await, one_per_table(), "as many as for one request");
    for table in VISITOR_TABLES {
        assert_eq!(rows(&app.store, table, "/bob/").await, 1, "{table}: bob stays");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_forget_survives_a_restart() {
    let first = spawn_app_with(|settings| settings.rights.forget_interval_secs = NEVER_SECS).await;
    let events = [event("/alice/1", "alice-cookie-id"), event("/bob/1", "bob")];
    assert_eq!(first.post_events(&events).await.status().as_u16(), 202);
    first.wait_for_events(2).await;
    let alice: u64 = first
        .store
        .client()
        .query("SELECT any(visitor) FROM events WHERE path = '/alice/1'")
        .fetch_one()
        .await
        .unwrap();

    assert_eq!(forget(&first, "alice-cookie-id").await.status().as_u16(), 202);
    // On disk before the answer, privately, holding the site and hashes only.
    let dir = queue_dir(&first.settings);
    let files = queued_files(&dir);
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains("alice-cookie-id"), "{text}");
    let record: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(record.as_object().unwrap().keys().collect::<Vec<_>>(), ["site", "visitors"], "{text}");
    assert_eq!(record["site"], SITE);
    let hashes: Vec<u64> = serde_json::from_value(record["visitors"].clone()).unwrap();
    assert!(hashes.contains(&alice) && hashes.len() <= 2, "{hashes:?} (today's and yesterday's hash of {alice})");
    assert_eq!(mutations(&first.store).await, vec![], "nothing runs before the interval ends");
    let (database, spool_dir) = (first.settings.clickhouse.database.clone(), first.settings.spool_dir.clone());
    first.stop().await;
    assert_eq!(queued_files(&dir).len(), 1, "stopping keeps the queue");

    let second = spawn_app_with(|settings| {
        settings.clickhouse.database = database;
        settings.spool_dir = spool_dir;
        settings.rights.forget_interval_secs = 1;
    })
    .await;
    wait_until_forgotten(&second, "/alice/").await;
    assert_eq!(mutations(&second.store).await, one_per_table());
    for table in VISITOR_TABLES {
        assert_eq!(rows(&second.store, table, "/bob/").await, 1, "{table}: bob stays");
    }
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forget_requests_over_the_clients_rate_limit_get_429() {
    let app = spawn_app_with(|settings| {
        settings.ingest.client_ip_header = Some("X-Forwarded-For".into());
        settings.ingest.trusted_proxies = vec!["127.0.0.1".into()];
        settings.ingest.rate_limit_per_second = 1;
        settings.ingest.rate_limit_burst = 3;
        settings.rights.forget_interval_secs = NEVER_SECS;
    })
    .await;
    let send = |client: &'static str, cookie: String| {
        app.http
            .post(format!("{}/api/forget", app.address))
            .header("User-Agent", CHROME_WINDOWS)
            .header("X-Forwarded-For", client)
            .json(&json!({"site": SITE, "visitor": cookie}))
            .send()
    };
    let mut statuses = Vec::new();
    let mut refused = None;
    for i in 0..10 {
        let response = send("203.0.113.7", format!("visitor-{i}")).await.unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 && refused.is_none() {
            let retry_after = response.headers().get("Retry-After").map(|v| v.to_str().unwrap().to_string());
            refused = Some((retry_after, response.json::<Value>().await.unwrap()));
        }
    }
    assert_eq!(statuses, [202, 202, 202, 429, 429, 429, 429, 429, 429, 429]);
    let (retry_after, body) = refused.unwrap();
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(body, json!({"error": "too many requests from this client; retry in 1 s", "field": null}));
    // Another client is not held back.
    assert_eq!(send("203.0.113.8", "visitor-x".into()).await.unwrap().status().as_u16(), 202);

    assert_eq!(queued_files(&queue_dir(&app.settings)).len(), 4, "only accepted requests are queued");
    assert_eq!(mutations(&app.store).await, vec![], "and none ran a mutation at once");
    assert_eq!(metric(&app.metrics().await, "footfall_forget_requests_total"), 4);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forget_request_that_cannot_be_queued_gets_503() {
    let app = spawn_app_with(|settings| settings.rights.forget_interval_secs = NEVER_SECS).await;
    let dir = queue_dir(&app.settings);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"in the way").unwrap();

    let response = forget(&app, "alice").await;
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers().get("Retry-After").unwrap(), "1");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "the collector cannot take this now; retry later (the forget queue cannot be written)", "field": null})
    );
    assert_eq!(metric(&app.metrics().await, "footfall_forget_requests_total"), 0);

    std::fs::remove_file(&dir).unwrap();
    std::fs::create_dir(&dir).unwrap();
    assert_eq!(forget(&app, "alice").await.status().as_u16(), 202);
    assert_eq!(queued_files(&dir).len(), 1);
    app.stop().await;
}
