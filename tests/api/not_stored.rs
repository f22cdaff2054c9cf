//! "Where did my events go?": the `not-stored` report counts, per site and reason, the
//! events intake answered but did not store, as the dashboard's "Events not stored" panel
//! shows them.

use serde_json::{json, Value};

use crate::helpers::{eventually_eq, pageview, spawn_app_with, CHROME_WINDOWS, SITE};
use crate::reports::get_report;

#[tokio::test(flavor = "multi_thread")]
async fn events_not_stored_are_counted_per_site_and_reason() {
    let app = spawn_app_with(|settings| settings.ingest.not_stored_write_secs = 0.1).await;
    let post = |event: Value, user_agent: &'static str, headers: &'static [(&'static str, &'static str)]| {
        let mut request =
            app.http.post(format!("{}/api/event", app.address)).header("User-Agent", user_agent).json(&event);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let headless =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";
    for _ in 0..2 {
        assert_eq!(post(pageview("/a"), headless, &[]).await.unwrap().status(), 202);
    }
    assert_eq!(post(pageview("/a"), CHROME_WINDOWS, &[("Sec-GPC", "1")]).await.unwrap().status(), 202);
    let foreign = json!({"site": SITE, "name": "pageview", "url": "http://127.0.0.1:8080/a"});
    assert_eq!(post(foreign, CHROME_WINDOWS, &[]).await.unwrap().status(), 403);
    assert_eq!(post(pageview("/a"), CHROME_WINDOWS, &[]).await.unwrap().status(), 202);
    app.wait_for_events(1).await;

    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive();
    let range = format!("from={}&to={}", today.pred_opt().unwrap(), today);
    let counts = || async {
        let answer: Value = get_report(&app, "not-stored", &range).await.json().await.unwrap();
        answer["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| (row["reason"].as_str().unwrap().to_string(), row["events"].as_u64().unwrap()))
            .collect::<Vec<_>>()
    };
    let expected = vec![("bot".to_string(), 2), ("foreign_origin".to_string(), 1), ("gpc".to_string(), 1)];
    eventually_eq("events not stored, per reason", expected, counts).await;

    let answer: Value = get_report(&app, "not-stored", &range).await.json().await.unwrap();
    assert_eq!(answer["report"], "not-stored");
    assert!(answer["rows"][1]["explanation"].as_str().unwrap().contains("127.0.0.1"), "{answer}");
    let csv = crate::reports::report_csv(&app, "not-stored", &range).await;
    assert!(csv.starts_with("reason,events,explanation\r\nbot,2,"), "{csv}");
    let filtered = get_report(&app, "not-stored", &format!("{range}&path=/a")).await;
    assert_eq!(filtered.status(), 400);
    assert_eq!(filtered.json::<Value>().await.unwrap()["field"], "path");
    app.stop().await;
}
