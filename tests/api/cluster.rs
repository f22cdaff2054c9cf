//! Scale-out (issue 8): several collectors on a ClickHouse cluster, with real processes.
//!
//! The cluster is instance `cluster` of scripts/clickhouse, started once per test binary
//! (it is reused when already up): a ZooKeeper and three ClickHouse 18.16 nodes on
//! loopback, with the clusters `footfall` (two shards: nodes 1 and 2) and
//! `footfall_replicated` (the same, node 3 a second replica of shard 1, read first). Each
//! test migrates its own fresh database `ON CLUSTER` and drops it at the end.
//!
//! Tests that stop a node hold [`CLUSTER`] exclusively; the others share it.

use std::sync::Once;

use footfall::config::Settings;
use footfall::store::Store;
use serde_json::{json, Value};

use crate::helpers::{
    child_env, eventually_eq, eventually_matches, instance_url, metric, metrics_text, register_site_at,
    spawn_app_on_cluster, spawn_app_with, test_settings, wait_for_event_count, wait_for_metric, ChildApp,
    CHROME_WINDOWS, SITE,
};

/// HTTP endpoints of the three nodes (scripts/clickhouse instances cluster-1..3).
fn node1() -> &'static str {
    instance_url("cluster-1")
}
fn node2() -> &'static str {
    instance_url("cluster-2")
}
fn node3() -> &'static str {
    instance_url("cluster-3")
}
/// Two shards, one replica each (nodes 1 and 2).
const SHARDED: &str = "footfall";
/// Two shards, shard 1 on nodes 3 and 1 (in that order), shard 2 on node 2.
const REPLICATED: &str = "footfall_replicated";

/// Shared by tests that only use the cluster, held alone by tests that stop a node.
static CLUSTER: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn scripts_clickhouse(action: &str, instance: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clickhouse");
    let status = std::process::Command::new(script).args([action, instance]).status().unwrap();
    assert!(status.success(), "scripts/clickhouse {action} {instance} failed");
}

/// Starts ZooKeeper and the three nodes unless they already run, once per test binary (so a
/// node that a failed test left stopped is started again by the next run).
fn ensure_cluster() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| scripts_clickhouse("start", "cluster"));
}

/// Test settings for a fresh database on `cluster`, reached through `url`.
fn cluster_settings(cluster: &str, url: &str) -> Settings {
    let mut settings = test_settings();
    settings.clickhouse.cluster = Some(cluster.into());
    settings.clickhouse.url = url.into();
    settings
}

/// A store on `url` for the settings' database (and cluster).
fn store_at(settings: &Settings, url: &str) -> Store {
    let mut clickhouse = settings.clickhouse.clone();
    clickhouse.url = url.into();
    Store::new(&clickhouse)
}

/// `sql` (on the settings' database) as TabSeparated text.
async fn text(store: &Store, sql: &str) -> String {
    let mut cursor = store.client().query(sql).fetch_bytes("TabSeparated").unwrap();
    String::from_utf8(cursor.collect().await.unwrap().to_vec()).unwrap()
}

/// Rows of the local `events` table of the node `store` talks to: (rows, rows whose
/// visitor hash is even).
async fn local_events(store: &Store) -> (u64, u64) {
    store.client().query("SELECT count(), countIf(visitor % 2 = 0) FROM events_local").fetch_one().await.unwrap()
}

async fn drop_database(store: &Store, cluster: &str) {
    // The keys' database first: the client's default database must exist while it runs.
    for database in [footfall::store::keys_database(store.database()), store.database().to_string()] {
        store
            .client()
            .query(&format!("DROP DATABASE IF EXISTS {database} ON CLUSTER {cluster}"))
            .execute()
            .await
            .unwrap();
    }
}

/// Posts `events` to a collector as one array, with the admin token (so `ts` is honoured).
async fn post_as_admin(http: &reqwest::Client, address: &str, user_agent: &str, events: &[Value]) {
    let response = http
        .post(format!("{address}/api/events"))
        .header("User-Agent", user_agent)
        .bearer_auth(test_settings().admin_token.unwrap())
        .json(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202, "{}", response.text().await.unwrap());
}

const USER_AGENTS: [&str; 3] = [
    CHROME_WINDOWS,
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
];

/// The events of visitor `v`: five pageviews and an engagement event with fixed times
/// from `start`, varied pages, referrers, time zones and screens; the last pageview comes
/// after a pause of over 30 minutes, so it starts a second session.
fn visit(v: usize, start: i64) -> Vec<Value> {
    let referrers = ["", "https://www.google.com/search?q=x", "https://news.example.org/item", "https://example.com/"];
    let zones = ["Europe/London", "America/New_York", "Asia/Tokyo", "Europe/Berlin"];
    let screen = [390, 1024, 1440][v % 3];
    let ts =
        |minutes: i64| chrono::DateTime::from_timestamp(start + v as i64 * 900 + minutes * 60, 0).unwrap().to_rfc3339();
    let mut events: Vec<Value> = [0, 2, 5, 9, 50]
        .iter()
        .enumerate()
        .map(|(i, minutes)| {
            json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/p/{}?utm_source=s{}", (v * 3 + i) % 7, v % 3),
                   "referrer": referrers[(v + i) % 4], "visitor": format!("visitor-{v}"), "returning": v.is_multiple_of(5),
                   "tz": zones[v % 4], "screen": screen, "ts": ts(*minutes), "props": {"n": v * 10 + i}})
        })
        .collect();
    events.push(json!({"site": SITE, "name": "engagement", "url": format!("https://{SITE}/p/{}", v % 7),
                       "visitor": format!("visitor-{v}"), "engaged_ms": 1000 * v, "ts": ts(3), "props": {"n": v * 10 + 9}}));
    events
}

/// Aggregates a report computes, over the public `events` table: what the cluster (through
/// the Distributed table) and a single node must answer identically.
///
/// Beside these, the test asks every report of the reports API of a cluster collector and
/// of the single-node collector, and compares the JSON.
const REPORT_QUERIES: &[&str] = &[
    "SELECT count(), uniqExact(visitor), uniqExact(session), sum(entry), sum(returning), sum(engaged_ms) FROM events",
    "SELECT path, countIf(name = 'pageview') AS views, uniqExact(visitor), sum(entry), sum(engaged_ms) \
     FROM events GROUP BY path ORDER BY views DESC, path",
    "SELECT toDayOfWeek(toTimeZone(ts, 'Europe/London')) AS weekday, toHour(ts, 'Europe/London') AS hour, count(), \
     uniqExact(visitor) FROM events WHERE name = 'pageview' GROUP BY weekday, hour ORDER BY weekday, hour",
    "SELECT toStartOfFifteenMinutes(ts) AS quarter, count() AS views FROM events WHERE name = 'pageview' \
     GROUP BY quarter ORDER BY views DESC, quarter LIMIT 5",
    "SELECT source_class, referrer_host, utm_source, sum(entry), uniqExact(visitor) FROM events \
     GROUP BY source_class, referrer_host, utm_source ORDER BY source_class, referrer_host, utm_source",
    "SELECT browser, os, device, screen, count(), uniqExact(visitor) FROM events \
     GROUP BY browser, os, device, screen ORDER BY browser, os, device, screen",
    "SELECT country, count(), uniqExact(visitor) FROM events GROUP BY country ORDER BY country",
    "SELECT toDate(ts, 'Europe/London') AS day, count(), uniqExact(visitor) FROM events GROUP BY day ORDER BY day",
];

#[tokio::test(flavor = "multi_thread")]
async fn events_sent_to_two_collectors_land_once_spread_over_both_shards() {
    let _shared = CLUSTER.read().await;
    ensure_cluster();
    let settings = cluster_settings(SHARDED, node1());
    let cluster = register_site_at(&settings, node1()).await;
    let at_node = |url: &str| {
        let mut settings = settings.clone();
        settings.clickhouse.url = url.into();
        child_env(&settings)
    };
    let (first, second) = tokio::join!(ChildApp::spawn(at_node(node1())), ChildApp::spawn(at_node(node2())));
    let collectors = [&first, &second];

    // 40 visitors, each sticking to one collector (as with client affinity at the load
    // balancer), every visitor's events in one request.
    // From 01:00 UTC three days ago: the ~10 hours of visits stay within one UTC day, so
    // each visitor is one day-hash whatever the time of day the test runs.
    let start = (chrono::Utc::now().timestamp() / 86_400 - 3) * 86_400 + 3600;
    let http = reqwest::Client::new();
    let visitors = 40;
    for v in 0..visitors {
        post_as_admin(&http, &collectors[v % 2].address, USER_AGENTS[v % 3], &visit(v, start)).await;
    }
    let total = visitors as u64 * 6;
    wait_for_event_count(&cluster, total).await;
    for collector in collectors {
        wait_for_metric(&http, &collector.address, "footfall_events_stored_total", total / 2).await;
    }

    // Exactly once: every event id and every event (props.n) once.
    let (rows, ids, numbers): (u64, u64, u64) = cluster
        .client()
        .query("SELECT count(), uniqExact(event_id), uniqExact(prop_values[1]) FROM events")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!((rows, ids, numbers), (total, total, total));

    // Spread over both shards by visitor hash (Distributed: shard = visitor % 2 here): even
    // hashes on shard 1 (node 1), odd on shard 2 (node 2), so each visitor's events are on
    // one shard.
    let (on_first, even_on_first) = local_events(&store_at(&settings, node1())).await;
    let (on_second, even_on_second) = local_events(&store_at(&settings, node2())).await;
    assert_eq!(on_first + on_second, total);
    assert!(on_first > 0 && on_second > 0, "all events on one shard: {on_first} and {on_second}");
    assert_eq!((even_on_first, even_on_second), (on_first, 0));
    let mut visitors_on_shards = 0;
    for node in [node1(), node2()] {
        let local = store_at(&settings, node);
        visitors_on_shards +=
            local.client().query("SELECT uniqExact(visitor) FROM events_local").fetch_one::<u64>().await.unwrap();
    }
    assert_eq!(visitors_on_shards, visitors as u64, "per-shard visitor counts add up to the exact total");

    // The same events through one collector on a single server give the same aggregates.
    let single = spawn_app_with(|_| {}).await;
    for v in 0..visitors {
        post_as_admin(&http, &single.address, USER_AGENTS[v % 3], &visit(v, start)).await;
    }
    single.wait_for_events(total).await;
    for sql in REPORT_QUERIES {
        let (on_cluster, on_single) = (text(&cluster, sql).await, text(&single.store, sql).await);
        assert_eq!(on_cluster, on_single, "{sql}");
        assert!(on_cluster.lines().count() >= 1);
    }
    assert_eq!(
        text(&cluster, REPORT_QUERIES[0]).await,
        format!("{total}\t{visitors}\t{}\t{}\t{}\t{}\n", visitors * 2, visitors * 2, visitors / 5 * 5, 1000 * 780)
    );

    // Every report, asked of a cluster collector and of the single-node collector, says
    // the same.
    let from = chrono::DateTime::from_timestamp(start - 86_400, 0).unwrap().date_naive();
    let to = chrono::Utc::now().date_naive();
    let token = settings.admin_token.clone().unwrap();
    for report in [
        "top-content",
        "busiest-times",
        "content-discovery",
        "sources",
        "devices",
        "countries",
        "timeseries",
        "timeseries&interval=hour",
        "realtime",
    ] {
        let (name, extra) = report.split_once('&').map_or((report, String::new()), |(n, e)| (n, format!("&{e}")));
        let ask = |address: String| {
            let range = if name == "realtime" { String::new() } else { format!("?from={from}&to={to}{extra}") };
            http.get(format!("{address}/api/v1/sites/{SITE}/reports/{name}{range}")).bearer_auth(&token).send()
        };
        let on_cluster = ask(first.address.clone()).await.unwrap();
        let on_single = ask(single.address.clone()).await.unwrap();
        let status = on_cluster.status().as_u16();
        let on_cluster = on_cluster.text().await.unwrap();
        assert_eq!(
            status,
            200,
            "{report}: {on_cluster}\n{}",
            first.log().lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect::<Vec<_>>().join("\n")
        );
        let (on_cluster, on_single): (Value, Value) =
            (serde_json::from_str(&on_cluster).unwrap(), on_single.json().await.unwrap());
        assert_eq!(on_cluster, on_single, "{report}");
    }

    single.stop().await;
    for collector in [first, second] {
        collector.signal("TERM");
    }
    drop_database(&cluster, SHARDED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn collectors_started_together_agree_on_the_day_key() {
    let _shared = CLUSTER.read().await;
    ensure_cluster();
    let settings = cluster_settings(SHARDED, node1());
    let cluster = register_site_at(&settings, node1()).await;
    let mut second_node = settings.clone();
    second_node.clickhouse.url = node2().into();
    let (first, second) = tokio::join!(ChildApp::spawn(child_env(&settings)), ChildApp::spawn(child_env(&second_node)));

    // The same person (same cookie id) through both collectors: the same visitor hash.
    let http = reqwest::Client::new();
    for collector in [&first, &second] {
        let response = http
            .post(format!("{}/api/event", collector.address))
            .header("User-Agent", CHROME_WINDOWS)
            .json(
                &json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/"), "visitor": "same-person"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
    }
    wait_for_event_count(&cluster, 2).await;
    let rows: Vec<(u64, u16)> =
        cluster.client().query("SELECT visitor, toUInt16(toDate(ts)) FROM events").fetch_all().await.unwrap();
    assert_eq!(rows[0], rows[1], "the collectors hashed the same person differently");

    // ... and it is the hash under the smallest candidate key of the day, on both shards'
    // view of day_keys.
    let (visitor, day) = rows[0];
    let candidates = cluster.day_keys(day, day).await.unwrap();
    assert!((1..=2).contains(&candidates.len()), "{} candidates for one day from two collectors", candidates.len());
    let key = candidates.iter().map(|row| row.key).min().unwrap();
    let expected = footfall::privacy::visitor_hash(
        &key,
        SITE,
        Some("same-person"),
        std::net::Ipv4Addr::LOCALHOST.into(),
        CHROME_WINDOWS,
    );
    assert_eq!(visitor, expected);

    for collector in [first, second] {
        collector.signal("TERM");
    }
    drop_database(&cluster, SHARDED).await;
}

/// Forgetting visitors, retention and old day keys delete rows on every shard; two nodes
/// migrating the same fresh database at once do no harm.
#[tokio::test(flavor = "multi_thread")]
async fn deletions_reach_every_shard() {
    let _shared = CLUSTER.read().await;
    ensure_cluster();
    let settings = cluster_settings(SHARDED, node1());
    let (cluster, other) = (store_at(&settings, node1()), store_at(&settings, node2()));
    let (first, second) = tokio::join!(cluster.migrate(), other.migrate());
    let (first, second) = (first.unwrap(), second.unwrap());
    assert!(first.len() + second.len() >= footfall::store::migrations().len(), "{first:?} and {second:?}");
    assert_eq!(cluster.migrate().await.unwrap(), Vec::<u32>::new(), "a migration is still pending");
    let (shard_1, shard_2) = (store_at(&settings, node1()), store_at(&settings, node2()));

    // Visitors 1..=20 (odd on shard 2, even on shard 1), each with an event 100 days ago and
    // one now.
    let now = chrono::Utc::now().timestamp() as u32;
    let rows: Vec<footfall::store::EventRow> = (1..=20u64)
        .flat_map(|visitor| {
            [100, 0].map(|days_ago| footfall::store::EventRow {
                site: SITE.into(),
                ts: now - days_ago * 86_400,
                name: "pageview".into(),
                visitor,
                event_id: visitor * 1000 + u64::from(days_ago),
                ..Default::default()
            })
        })
        .collect();
    for month in [
        &rows.iter().filter(|r| r.ts < now).cloned().collect::<Vec<_>>(),
        &rows.iter().filter(|r| r.ts == now).cloned().collect(),
    ] {
        cluster.insert_events(month).await.unwrap();
    }
    assert_eq!((local_events(&shard_1).await, local_events(&shard_2).await), ((20, 20), (20, 0)));

    let passes = cluster.apply_retention(now - 30 * 86_400).await.unwrap();
    let old_month = footfall::store::partition_month(now - 100 * 86_400);
    assert_eq!(
        passes.iter().map(|pass| (pass.table, pass.dropped_months.clone())).collect::<Vec<_>>(),
        vec![("events", vec![old_month]), ("page_views", vec![old_month])]
    );
    assert_eq!((local_events(&shard_1).await.0, local_events(&shard_2).await.0), (10, 10));

    cluster.delete_visitors(SITE, &[3, 4]).await.unwrap();
    eventually_eq("the events on (shard 1, shard 2) after deleting two visitors", (9, 9), || async {
        (local_events(&shard_1).await.0, local_events(&shard_2).await.0)
    })
    .await;

    let today = footfall::privacy::keys::day_number(chrono::Utc::now());
    for day in [today - 5, today - 4, today - 3, today - 2, today] {
        let row = footfall::store::DayKeyRow { day, key: [day as u8; 32], created_at: now };
        cluster.insert_day_key(&row).await.unwrap();
    }
    let days_on = |store: Store| async move {
        let keys = footfall::store::keys_database(store.database());
        store
            .client()
            .query(&format!("SELECT toUInt16(day) AS d FROM {keys}.day_keys_local ORDER BY d"))
            .fetch_all::<u16>()
            .await
            .unwrap()
    };
    let before = [days_on(store_at(&settings, node1())).await, days_on(store_at(&settings, node2())).await].concat();
    assert_eq!(before.len(), 5);
    assert!(
        !days_on(store_at(&settings, node1())).await.is_empty()
            && !days_on(store_at(&settings, node2())).await.is_empty()
    );
    cluster.delete_day_keys_before(today - 2).await.unwrap();
    let mut after = [days_on(store_at(&settings, node1())).await, days_on(store_at(&settings, node2())).await].concat();
    after.sort_unstable();
    assert_eq!(after, vec![today - 2, today]);

    drop_database(&cluster, SHARDED).await;
}

/// With a shard down, an INSERT through the Distributed table fails (it is synchronous),
/// so the collector does not count those events as stored: they wait in the spool and are
/// stored once each when the shard is back.
#[tokio::test(flavor = "multi_thread")]
async fn events_wait_while_a_shard_is_down_and_are_stored_once_when_it_returns() {
    let _alone = CLUSTER.write().await;
    ensure_cluster();
    let settings = cluster_settings(SHARDED, node1());
    let cluster = register_site_at(&settings, node1()).await;
    let collector = ChildApp::spawn(child_env(&settings)).await;
    let http = reqwest::Client::new();

    scripts_clickhouse("stop", "cluster-2");
    let events: Vec<Value> = (0..40)
        .map(|v| json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/down"), "visitor": format!("v{v}")}))
        .collect();
    post_as_admin(&http, &collector.address, CHROME_WINDOWS, &events).await;
    wait_for_metric(&http, &collector.address, "footfall_events_spooled_total", 40).await;
    let metrics = metrics_text(&http, &collector.address).await;
    assert_eq!(metric(&metrics, "footfall_events_stored_total"), 0, "stored while a shard was down");
    // 18.16 stops the whole INSERT when it cannot connect to a shard. (Were one shard's rows
    // stored, the collector would find their ids before re-sending and skip them.)
    assert_eq!(local_events(&store_at(&settings, node1())).await.0, 0, "the failed INSERT stored rows on shard 1");

    // For contrast, ClickHouse's default, insert_distributed_sync = 0, acknowledges such an
    // INSERT: the receiving server stores its own shard's rows and queues the others on its
    // disk, to send when the shard is back. A collector trusting that acknowledgement
    // would count the queued rows as stored.
    let database = cluster.database();
    for ddl in [
        format!("CREATE TABLE {database}.queued_local ON CLUSTER {SHARDED} (n UInt64) ENGINE = MergeTree() ORDER BY n"),
        format!("CREATE TABLE {database}.queued ON CLUSTER {SHARDED} AS {database}.queued_local ENGINE = Distributed({SHARDED}, {database}, queued_local, n)"),
    ] {
        // ON CLUSTER DDL waits for node 2: make the tables on node 1 only.
        cluster.client().query(&ddl.replace(&format!(" ON CLUSTER {SHARDED}"), "")).execute().await.unwrap();
    }
    let insert = "INSERT INTO queued VALUES (1), (2), (3), (4)";
    cluster.client().query(insert).with_setting("insert_distributed_sync", "0").execute().await.unwrap();
    let queued: u64 = cluster.client().query("SELECT count() FROM queued_local").fetch_one().await.unwrap();
    assert_eq!(queued, 2, "shard 1's rows (the even ones) are stored, shard 2's are only queued");
    assert!(
        cluster.client().query(insert).execute().await.is_err(),
        "a synchronous INSERT succeeded with a shard down"
    );

    scripts_clickhouse("start", "cluster-2");
    wait_for_event_count(&cluster, 40).await;
    wait_for_metric(&http, &collector.address, "footfall_events_stored_total", 40).await;
    let (rows, ids): (u64, u64) =
        cluster.client().query("SELECT count(), uniqExact(event_id) FROM events").fetch_one().await.unwrap();
    assert_eq!((rows, ids), (40, 40));
    let (on_first, _) = local_events(&store_at(&settings, node1())).await;
    let (on_second, _) = local_events(&store_at(&settings, node2())).await;
    assert!(on_first > 0 && on_second > 0 && on_first + on_second == 40, "{on_first} + {on_second}");

    collector.signal("TERM");
    drop_database(&cluster, SHARDED).await;
}

/// Shard 1 of `footfall_replicated` has two replicas: node 3 (read and written first) and
/// node 1. When node 3 stops, node 1 answers for the shard: nothing is missing from reads
/// and new events are stored; when node 3 returns it catches up.
#[tokio::test(flavor = "multi_thread")]
async fn a_replica_takes_over_reads_when_a_server_stops() {
    let _alone = CLUSTER.write().await;
    ensure_cluster();
    let settings = cluster_settings(REPLICATED, node2());
    let app = spawn_app_on_cluster(settings.clone()).await;
    let (replica_1, replica_3) = (store_at(&settings, node1()), store_at(&settings, node3()));
    let pageviews = |from: usize, to: usize| -> Vec<Value> {
        (from..to)
            .map(|v| json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/r"), "visitor": format!("v{v}")}))
            .collect()
    };

    let cluster = &app.store;
    app.post_events(&pageviews(0, 100)).await;
    app.wait_for_events(100).await;
    let shard_1 = wait_for_replicas_to_agree(&replica_3, &replica_1).await;
    assert!(shard_1 > 0 && shard_1 < 100, "{shard_1} of 100 events on shard 1");
    assert_eq!(local_events(&store_at(&settings, node2())).await.0, 100 - shard_1);

    scripts_clickhouse("stop", "cluster-3");
    assert_eq!(crate::helpers::count_events(cluster).await, 100, "reads lost events with a replica down");
    app.post_events(&pageviews(100, 150)).await;
    app.wait_for_events(150).await;
    let (on_replica_1, _) = local_events(&replica_1).await;
    assert!(on_replica_1 > shard_1, "node 1 took none of the new events of shard 1");

    scripts_clickhouse("start", "cluster-3");
    assert_eq!(wait_for_replicas_to_agree(&replica_3, &replica_1).await, on_replica_1);
    assert_eq!(crate::helpers::count_events(cluster).await, 150);

    drop_database(cluster, REPLICATED).await;
    app.stop().await;
}

/// Polls until both replicas hold the same number of rows in `events_local`; returns it.
async fn wait_for_replicas_to_agree(a: &Store, b: &Store) -> u64 {
    let (rows, _) = eventually_matches(
        "the replicas do not hold the same number of rows (or hold none)",
        |(rows_a, rows_b)| rows_a == rows_b && *rows_a > 0,
        || async { (local_events(a).await.0, local_events(b).await.0) },
    )
    .await;
    rows
}

/// "Moving a single-server install to a cluster" (docs/operations.md), step by step: a
/// database made on one server (node 1, used as a single server) is moved onto the
/// two-shard cluster with its events, sites and day keys.
#[tokio::test(flavor = "multi_thread")]
async fn a_single_server_install_moves_to_the_cluster() {
    let _shared = CLUSTER.read().await;
    ensure_cluster();
    let on_cluster = cluster_settings(SHARDED, node1());
    let mut on_one_server = on_cluster.clone();
    on_one_server.clickhouse.cluster = None;
    let single = register_site_at(&on_one_server, node1()).await;
    let today = footfall::privacy::keys::day_number(chrono::Utc::now());
    single.insert_day_key(&footfall::store::DayKeyRow { day: today, key: [7; 32], created_at: 0 }).await.unwrap();
    let now = chrono::Utc::now().timestamp() as u32;
    let rows: Vec<footfall::store::EventRow> = (1..=30u64)
        .map(|n| footfall::store::EventRow {
            site: SITE.into(),
            ts: now,
            name: "pageview".into(),
            visitor: n * 7919,
            event_id: n,
            ..Default::default()
        })
        .collect();
    single.insert_events(&rows).await.unwrap();
    let database = single.database().to_string();

    // Step 3: tables aside, views dropped.
    let tables: Vec<(String, String)> = single
        .client()
        .query("SELECT name, engine FROM system.tables WHERE database = ? ORDER BY name")
        .bind(&database)
        .fetch_all()
        .await
        .unwrap();
    let (views, tables): (Vec<_>, Vec<_>) = tables.into_iter().partition(|(_, engine)| engine == "MaterializedView");
    for (view, _) in &views {
        single.client().query(&format!("DROP TABLE {database}.{view}")).execute().await.unwrap();
    }
    let renames: Vec<String> =
        tables.iter().map(|(table, _)| format!("{database}.{table} TO {database}.{table}_old")).collect();
    single.client().query(&format!("RENAME TABLE {}", renames.join(", "))).execute().await.unwrap();

    // Step 4: migrate onto the cluster.
    let cluster = store_at(&on_cluster, node1());
    assert_eq!(cluster.migrate().await.unwrap().len(), footfall::store::migrations().len());

    // Steps 5 and 7: copy through the Distributed tables (the store sends
    // insert_distributed_sync = 1 with every query).
    for (table, _) in tables.iter().filter(|(table, _)| table != "schema_migrations") {
        let copy = format!("INSERT INTO {database}.{table} SELECT * FROM {database}.{table}_old");
        cluster.client().query(&copy).execute().await.unwrap();
    }

    assert_eq!(cluster.list_sites().await.unwrap(), single_site());
    assert_eq!(
        cluster.day_keys(today, today).await.unwrap().iter().map(|row| row.key).collect::<Vec<_>>(),
        vec![[7; 32]]
    );
    let (count, ids): (u64, u64) =
        cluster.client().query("SELECT count(), uniqExact(event_id) FROM events").fetch_one().await.unwrap();
    assert_eq!((count, ids), (30, 30));
    let (on_first, even_on_first) = local_events(&store_at(&on_cluster, node1())).await;
    let (on_second, even_on_second) = local_events(&store_at(&on_cluster, node2())).await;
    assert_eq!((on_first + on_second, even_on_first, even_on_second), (30, on_first, 0));
    assert!(on_first > 0 && on_second > 0);

    drop_database(&cluster, SHARDED).await;
}

/// The site `register_site_at` registers.
fn single_site() -> Vec<footfall::sites::Site> {
    vec![footfall::sites::Site::new(SITE, "Europe/London", &["https://partner.example.net".into()]).unwrap()]
}
