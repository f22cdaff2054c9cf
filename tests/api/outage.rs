//! ClickHouse briefly unreachable: events accepted meanwhile land, once, after it returns.

use crate::helpers::{eventually, metric, pageview, spawn_app_with, ToggleProxy};

#[tokio::test(flavor = "multi_thread")]
async fn events_accepted_during_an_outage_land_after_it() {
    let proxy = ToggleProxy::start().await;
    let url = proxy.url();
    let app = spawn_app_with(|settings| settings.clickhouse.url = url).await;
    // `app.store` talks to ClickHouse directly, not through the proxy.
    for i in 0..10 {
        assert_eq!(app.post_event(&pageview(&format!("/before/{i}"))).await.status().as_u16(), 202);
    }
    app.wait_for_events(10).await;

    proxy.cut();
    for i in 0..50 {
        assert_eq!(app.post_event(&pageview(&format!("/during/{i}"))).await.status().as_u16(), 202);
    }
    eventually("the writer never retried", || async {
        metric(&app.metrics().await, "footfall_insert_retries_total") != 0
    })
    .await;
    let ready = app.http.get(format!("{}/readyz", app.address)).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    assert_eq!(app.event_count().await, 10);

    proxy.restore().await;
    app.wait_for_events(60).await;
    let distinct: u64 = app.store.client().query("SELECT uniqExact(path) FROM events").fetch_one().await.unwrap();
    assert_eq!(distinct, 60);
    let ready = app.http.get(format!("{}/readyz", app.address)).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    app.stop().await;
}
