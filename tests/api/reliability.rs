//! No accepted event is lost when ClickHouse fails or the collector dies (issue 5), with
//! real processes: a ClickHouse server the test stops and starts itself (instance
//! `reliability` of scripts/clickhouse, HTTP 28123 unless scripts/test moved the ports), the collector as a child process
//! where it is killed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clickhouse::Row;
use serde::Deserialize;
use serde_json::json;

use crate::helpers::{
    child_env, eventually, eventually_eq, eventually_matches, instance_url, metric, metrics_text, register_site,
    register_site_at, spawn_app_with, test_settings, wait_for_metric, ChildApp, ToggleProxy, CHROME_WINDOWS, SITE,
};

/// The server these tests stop and start; one test at a time may use it.
static RELIABILITY_SERVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn clickhouse_instance(action: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clickhouse");
    let status = std::process::Command::new(script).args([action, "reliability"]).status().unwrap();
    assert!(status.success(), "scripts/clickhouse {action} reliability failed");
}

/// Kills the reliability server outright, as a crash or an OOM kill would. (A graceful
/// stop waits for the collector's busy keep-alive connections, about 15 s.)
async fn crash_clickhouse() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clickhouse");
    let dir = std::process::Command::new(script).args(["dir", "reliability"]).output().unwrap().stdout;
    let pid_file = format!("{}/clickhouse-server.pid", String::from_utf8(dir).unwrap().trim());
    let pid = std::fs::read_to_string(&pid_file).unwrap().trim().to_string();
    assert!(std::process::Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    eventually("ClickHouse did not die", || async {
        !std::path::Path::new(&format!("/proc/{pid}/stat")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z")
    })
    .await;
}

/// Sends numbered pageviews one request at a time from `workers` tasks until told to
/// stop, and remembers which numbers were answered 202.
struct SteadyIntake {
    acknowledged: Arc<Mutex<BTreeSet<u64>>>,
    refused: Arc<Mutex<u64>>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SteadyIntake {
    fn start(address: &str, workers: u64, pause: Duration) -> Self {
        let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
        let refused = Arc::new(Mutex::new(0));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks = (0..workers)
            .map(|worker| {
                let (address, acknowledged, refused, stopped) =
                    (address.to_string(), Arc::clone(&acknowledged), Arc::clone(&refused), stopped.clone());
                tokio::spawn(async move {
                    let http = reqwest::Client::new();
                    for n in (worker..).step_by(workers as usize) {
                        if *stopped.borrow() {
                            return;
                        }
                        let event = json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/n/{n}"),
                                           "props": {"n": n}});
                        let sent = http
                            .post(format!("{address}/api/event"))
                            .header("User-Agent", CHROME_WINDOWS)
                            .json(&event)
                            .send()
                            .await;
                        match sent.map(|response| response.status().as_u16()) {
                            Ok(202) => {
                                acknowledged.lock().unwrap().insert(n);
                            }
                            Ok(_) => *refused.lock().unwrap() += 1,
                            // The collector died mid-request: not acknowledged.
                            Err(_) => {}
                        }
                        tokio::time::sleep(pause).await;
                    }
                })
            })
            .collect();
        Self { acknowledged, refused, stop, tasks }
    }

    fn acknowledged(&self) -> usize {
        self.acknowledged.lock().unwrap().len()
    }

    async fn wait_until_acknowledged(&self, count: usize) {
        eventually_matches(
            format!("fewer than {count} events acknowledged"),
            |&acknowledged| acknowledged >= count,
            || async { self.acknowledged() },
        )
        .await;
    }

    /// Stops sending and returns the acknowledged numbers and the count of refusals.
    async fn finish(self) -> (BTreeSet<u64>, u64) {
        self.stop.send(true).unwrap();
        for task in self.tasks {
            task.await.unwrap();
        }
        let acknowledged = self.acknowledged.lock().unwrap().clone();
        let refused = *self.refused.lock().unwrap();
        (acknowledged, refused)
    }
}

#[derive(Row, Deserialize)]
struct Stored {
    n: u64,
    copies: u64,
}

/// How many times each event number is stored.
async fn stored_numbers(store: &footfall::store::Store) -> BTreeMap<u64, u64> {
    let rows: Vec<Stored> = store
        .client()
        .query("SELECT toUInt64(prop_values[1]) AS n, count() AS copies FROM events GROUP BY n ORDER BY n")
        .fetch_all()
        .await
        .unwrap();
    rows.into_iter().map(|row| (row.n, row.copies)).collect()
}

/// Polls until every acknowledged number is stored, then checks none is stored twice.
async fn assert_stored_exactly_once(store: &footfall::store::Store, acknowledged: &BTreeSet<u64>) {
    eventually_eq("the numbers acknowledged but not stored", Vec::<&u64>::new(), || async {
        let stored = stored_numbers(store).await;
        let duplicated: Vec<_> = stored.iter().filter(|(_, copies)| **copies > 1).collect();
        assert!(duplicated.is_empty(), "stored more than once: {duplicated:?}");
        acknowledged.iter().filter(|n| !stored.contains_key(n)).collect::<Vec<_>>()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clickhouse_stopped_and_restarted_under_steady_intake_loses_nothing() {
    let _server = RELIABILITY_SERVER.lock().await;
    clickhouse_instance("start");
    let mut settings = test_settings();
    settings.clickhouse.url = instance_url("reliability").into();
    let store = register_site_at(&settings, instance_url("reliability")).await;
    let mut app = ChildApp::spawn(child_env(&settings)).await;
    let http = reqwest::Client::new();
    let intake = SteadyIntake::start(&app.address, 4, Duration::from_millis(5));
    intake.wait_until_acknowledged(100).await;

    crash_clickhouse().await;
    let spooled_before = metric(&metrics_text(&http, &app.address).await, "footfall_events_spooled_total");
    // Keep taking events while ClickHouse is down: they go to the spool.
    eventually_matches(
        format!("events are not spooled while ClickHouse is down: spooled_total < {spooled_before} + 200"),
        |&spooled| spooled >= spooled_before + 200,
        || async { metric(&metrics_text(&http, &app.address).await, "footfall_events_spooled_total") },
    )
    .await;
    clickhouse_instance("start");
    let acknowledged_at_restart = intake.acknowledged();
    intake.wait_until_acknowledged(acknowledged_at_restart + 100).await;
    let (acknowledged, refused) = intake.finish().await;

    assert_eq!(refused, 0, "no request was refused");
    assert_stored_exactly_once(&store, &acknowledged).await;
    assert_eq!(stored_numbers(&store).await.len(), acknowledged.len());
    app.signal("TERM");
    assert_eq!(app.wait().await, Some(0));
    clickhouse_instance("stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_errors_are_retried_and_a_poisoned_event_is_quarantined() {
    let app = spawn_app_with(|settings| settings.pipeline.batch_max_wait_ms = 200).await;
    let db = app.store.database().to_string();
    let admin = app.store.client();
    // A check in the schema that refuses one particular row, as a type mismatch would.
    admin
        .query(&format!("ALTER TABLE {db}.events ADD COLUMN poison_check UInt8 MATERIALIZED throwIf(path = '/poison')"))
        .execute()
        .await
        .unwrap();
    let mut events: Vec<_> =
        (0..19).map(|n| json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/ok/{n}")})).collect();
    events.insert(7, json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/poison")}));
    assert_eq!(app.post_events(&events).await.status().as_u16(), 202);
    app.wait_for_events(19).await;
    wait_for_metric(&app.http, &app.address, "footfall_events_dropped_total{reason=\"quarantined\"}", 1).await;
    let quarantine = std::fs::read_dir(app.settings.spool_dir.join("quarantine")).unwrap().next().unwrap().unwrap();
    let quarantined = std::fs::read_to_string(quarantine.path()).unwrap();
    assert_eq!(quarantined.lines().count(), 1);
    assert!(quarantined.contains("\"path\":\"/poison\"") && quarantined.contains("Code: 395"), "{quarantined}");

    // The table becomes unwritable for a while: inserts fail, events wait in the spool.
    admin.query(&format!("DETACH TABLE {db}.events")).execute().await.unwrap();
    let later: Vec<_> = (0..10)
        .map(|n| json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/later/{n}")}))
        .collect();
    assert_eq!(app.post_events(&later).await.status().as_u16(), 202);
    wait_for_metric(&app.http, &app.address, "footfall_events_spooled_total", 10).await;
    admin.query(&format!("ATTACH TABLE {db}.events")).execute().await.unwrap();
    app.wait_for_events(29).await;
    assert!(metric(&app.metrics().await, "footfall_insert_retries_total") >= 1);
    let distinct: u64 = admin.query("SELECT uniqExact(path) FROM events").fetch_one().await.unwrap();
    assert_eq!(distinct, 29);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_a_materialised_view_refuses_after_events_took_them_are_not_stored_twice() {
    let app = spawn_app_with(|settings| settings.pipeline.batch_max_wait_ms = 200).await;
    let db = app.store.database().to_string();
    let admin = app.store.client();
    // Views run after ClickHouse has written the rows to `events`; when one refuses
    // them, the INSERT fails but the rows stay.
    admin
        .query(&format!(
            "CREATE MATERIALIZED VIEW {db}.refusing_view ENGINE = Memory \
             AS SELECT throwIf(path = '/refused-by-view') AS refused FROM {db}.events"
        ))
        .execute()
        .await
        .unwrap();
    let mut events: Vec<_> =
        (0..19).map(|n| json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/ok/{n}")})).collect();
    events.insert(11, json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/refused-by-view")}));
    assert_eq!(app.post_events(&events).await.status().as_u16(), 202);
    app.wait_for_events(20).await;

    let (rows, ids): (u64, u64) =
        admin.query("SELECT count(), uniqExact(event_id) FROM events").fetch_one().await.unwrap();
    assert_eq!((rows, ids), (20, 20), "every event once");
    let metrics = app.metrics().await;
    assert_eq!(metric(&metrics, "footfall_events_dropped_total{reason=\"quarantined\"}"), 0);
    assert_eq!(metric(&metrics, "footfall_events_stored_total"), 20);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_in_durable_mode_loses_no_acknowledged_event() {
    let mut settings = test_settings();
    settings.durable = true;
    let store = register_site(&settings).await;
    let mut app = ChildApp::spawn(child_env(&settings)).await;
    let intake = SteadyIntake::start(&app.address, 8, Duration::ZERO);
    intake.wait_until_acknowledged(2000).await;
    app.signal("KILL");
    app.wait().await;
    let (acknowledged, _) = intake.finish().await;

    let app = ChildApp::spawn(child_env(&settings)).await;
    assert_stored_exactly_once(&store, &acknowledged).await;
    // Events written but not yet acknowledged when the process died may be stored too;
    // nothing else may be.
    let stored = stored_numbers(&store).await;
    assert!(stored.len() >= acknowledged.len() && stored.len() <= acknowledged.len() + 8, "{}", stored.len());
    drop(app);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_in_default_mode_loses_at_most_what_was_in_memory() {
    let mut settings = test_settings();
    // Nothing is written for a minute, so everything acknowledged is in memory.
    settings.pipeline.batch_max_wait_ms = 60_000;
    let store = register_site(&settings).await;
    let mut app = ChildApp::spawn(child_env(&settings)).await;
    let http = reqwest::Client::new();
    let intake = SteadyIntake::start(&app.address, 4, Duration::ZERO);
    intake.wait_until_acknowledged(500).await;
    let (acknowledged, _) = intake.finish().await;
    let metrics = metrics_text(&http, &app.address).await;
    let in_memory = metric(&metrics, "footfall_events_accepted_total")
        - metric(&metrics, "footfall_events_stored_total")
        - metric(&metrics, "footfall_events_spooled_total");
    assert_eq!(in_memory, acknowledged.len() as u64);
    app.signal("KILL");
    app.wait().await;

    let _app = ChildApp::spawn(child_env(&settings)).await;
    let stored = stored_numbers(&store).await;
    let lost = acknowledged.iter().filter(|n| !stored.contains_key(n)).count() as u64;
    assert!(lost <= in_memory, "lost {lost}, more than the {in_memory} held in memory");
    assert!(in_memory <= (settings.pipeline.queue_capacity + settings.pipeline.batch_max_rows) as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_budget_answers_503_and_loses_nothing_acknowledged() {
    let proxy = ToggleProxy::start().await;
    let mut settings = test_settings();
    let store = register_site(&settings).await;
    settings.clickhouse.url = proxy.url();
    settings.durable = true;
    settings.spool_max_bytes = 1 << 20;
    let app = ChildApp::spawn(child_env(&settings)).await;
    let http = reqwest::Client::new();
    proxy.cut();

    let mut acknowledged = BTreeSet::new();
    let mut refused = 0;
    for request in 0..200u64 {
        let events: Vec<_> = (0..50)
            .map(|i| {
                let n = request * 50 + i;
                json!({"site": SITE, "name": "pageview", "url": format!("https://{SITE}/n/{n}"), "props": {"n": n}})
            })
            .collect();
        let response = http
            .post(format!("{}/api/events", app.address))
            .header("User-Agent", CHROME_WINDOWS)
            .json(&events)
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            202 => acknowledged.extend(request * 50..request * 50 + 50),
            503 => {
                let body: serde_json::Value = response.json().await.unwrap();
                assert!(body["error"].as_str().unwrap().contains("spool is full"), "{body}");
                refused += 1;
                if refused == 3 {
                    break;
                }
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(refused, 3, "the budget filled up");
    assert!(!acknowledged.is_empty());
    let metrics = metrics_text(&http, &app.address).await;
    assert_eq!(metric(&metrics, "footfall_events_dropped_total{reason=\"spool_full\"}"), 150);

    proxy.restore().await;
    assert_stored_exactly_once(&store, &acknowledged).await;
    assert_eq!(stored_numbers(&store).await.len(), acknowledged.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_torn_spool_tail_is_reported_and_the_good_records_replayed() {
    use footfall::pipeline::segment::SpoolRecord;
    use footfall::pipeline::spool::Spool;
    use footfall::store::EventRow;

    let settings = test_settings();
    let now = chrono::Utc::now().timestamp() as u32;
    let row = |n: u64| EventRow {
        site: SITE.into(),
        ts: now,
        name: "pageview".into(),
        path: format!("/n/{n}"),
        prop_keys: vec!["n".into()],
        prop_values: vec![n.to_string()],
        ..EventRow::default()
    };
    // A crash left a spool: two whole records, then half of a third.
    let segment = {
        let spool = Spool::open(&settings.spool_dir, 1 << 30).unwrap();
        spool.append(&[SpoolRecord { maybe_stored: false, rows: (0..3).map(row).collect() }]).unwrap();
        spool.append(&[SpoolRecord { maybe_stored: false, rows: (3..5).map(row).collect() }]).unwrap();
        spool.segment_path(spool.segment_ids().unwrap()[0])
    };
    let torn = footfall::pipeline::segment::encode(&[SpoolRecord { maybe_stored: false, rows: vec![row(5)] }]);
    let torn = &torn[..torn.len() / 2];
    {
        use std::io::Write;
        std::fs::OpenOptions::new().append(true).open(&segment).unwrap().write_all(torn).unwrap();
    }

    let app = spawn_app_with(|s| {
        s.clickhouse.database = settings.clickhouse.database.clone();
        s.spool_dir = settings.spool_dir.clone();
    })
    .await;
    app.wait_for_events(5).await;
    assert_eq!(stored_numbers(&app.store).await, (0..5).map(|n| (n, 1)).collect());
    wait_for_metric(&app.http, &app.address, "footfall_spool_corrupt_bytes_total", torn.len() as u64).await;
    let quarantined: Vec<_> = std::fs::read_dir(settings.spool_dir.join("quarantine"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".bad"))
        .collect();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(std::fs::read(&quarantined[0]).unwrap(), torn);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_that_landed_before_a_crash_is_not_stored_again() {
    use footfall::pipeline::delivery::assign_event_ids;
    use footfall::pipeline::segment::SpoolRecord;
    use footfall::pipeline::spool::{Ack, InFlight, Spool};
    use footfall::store::EventRow;

    let settings = test_settings();
    let store = register_site(&settings).await;
    let now = chrono::Utc::now().timestamp() as u32;
    let rows: Vec<EventRow> = (0..6)
        .map(|n: u64| EventRow {
            site: SITE.into(),
            ts: now,
            name: "pageview".into(),
            path: format!("/n/{n}"),
            prop_keys: vec!["n".into()],
            prop_values: vec![n.to_string()],
            ..EventRow::default()
        })
        .collect();
    // The collector had spooled these rows, recorded the batch in flight, inserted it
    // (ClickHouse stored it) and died before recording the delivery.
    let base = 0xfeed_0000_0000_0000;
    let segment = {
        let spool = Spool::open(&settings.spool_dir, 1 << 30).unwrap();
        spool.append(&[SpoolRecord { maybe_stored: false, rows: rows[..4].to_vec() }]).unwrap();
        spool.append(&[SpoolRecord { maybe_stored: false, rows: rows[4..].to_vec() }]).unwrap();
        let segment = spool.segment_ids().unwrap()[0];
        let end = spool.readable_len(segment).unwrap();
        spool.set_ack(segment, Ack { delivered: 0, in_flight: Some(InFlight { end, batch: base }) }).unwrap();
        segment
    };
    let mut landed = rows.clone();
    assign_event_ids(&mut landed, base);
    store.insert_events(&landed).await.unwrap();

    let app = spawn_app_with(|s| {
        s.clickhouse.database = settings.clickhouse.database.clone();
        s.spool_dir = settings.spool_dir.clone();
    })
    .await;
    wait_for_metric(&app.http, &app.address, "footfall_events_replayed_total", 6).await;
    assert_eq!(stored_numbers(&store).await, (0..6).map(|n| (n, 1)).collect());
    assert!(!Spool::open(&settings.spool_dir, 1 << 30).unwrap().segment_path(segment).exists());
    app.stop().await;
}
