//! Shutdown: SIGTERM drains everything queued into ClickHouse; what cannot be delivered
//! by the deadline is spooled to disk and replayed by the next start.

use crate::helpers::{
    child_env, count_events, eventually_eq, metric, metrics_text, pageview, register_site, segment_files,
    test_settings, wait_for_event_count, wait_for_metric, ChildApp, ToggleProxy, CHROME_WINDOWS,
};

async fn send_batches(http: &reqwest::Client, address: &str, batches: usize, per_batch: usize) {
    for batch in 0..batches {
        let events: Vec<_> = (0..per_batch).map(|i| pageview(&format!("/{batch}/{i}"))).collect();
        let response = http
            .post(format!("{address}/api/events"))
            .header("User-Agent", CHROME_WINDOWS)
            .json(&events)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_queued_events_into_clickhouse() {
    let mut settings = test_settings();
    // Nothing would be written for ten minutes: the events are in memory when SIGTERM comes.
    settings.pipeline.batch_max_wait_ms = 600_000;
    let store = register_site(&settings).await;
    let mut app = ChildApp::spawn(child_env(&settings)).await;
    let http = reqwest::Client::new();
    send_batches(&http, &app.address, 5, 100).await;
    wait_for_metric(&http, &app.address, "footfall_events_accepted_total", 500).await;
    assert_eq!(count_events(&store).await, 0);

    app.signal("TERM");
    assert_eq!(app.wait().await, Some(0));
    assert_eq!(count_events(&store).await, 500);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_spooled_while_clickhouse_is_away_are_replayed_by_the_next_start() {
    let proxy = ToggleProxy::start().await;
    let mut settings = test_settings();
    let store = register_site(&settings).await;
    settings.clickhouse.url = proxy.url();
    settings.pipeline.shutdown_deadline_ms = 300;
    let mut app = ChildApp::spawn(child_env(&settings)).await;
    let http = reqwest::Client::new();

    proxy.cut();
    send_batches(&http, &app.address, 3, 100).await;
    wait_for_metric(&http, &app.address, "footfall_events_spooled_total", 300).await;
    app.signal("TERM");
    assert_eq!(app.wait().await, Some(0));
    assert_eq!(count_events(&store).await, 0);
    assert!(segment_files(&settings.spool_dir) > 0, "the spool holds the undelivered events");

    proxy.restore().await;
    let app = ChildApp::spawn(child_env(&settings)).await;
    wait_for_event_count(&store, 300).await;
    wait_for_metric(&http, &app.address, "footfall_events_replayed_total", 300).await;
    // Segments are deleted right after ClickHouse acknowledged their rows.
    eventually_eq("the count of segment files", 0, || async { segment_files(&settings.spool_dir) }).await;
    assert_eq!(metric(&metrics_text(&http, &app.address).await, "footfall_events_stored_total"), 300);
    let distinct: u64 = store.client().query("SELECT uniqExact(event_id) FROM events").fetch_one().await.unwrap();
    assert_eq!(distinct, 300);
}
