//! The dashboard in a real browser (Debian's Chromium, headless, through chromedriver):
//! after seeding known events, the overview renders, its numbers equal the reports API's
//! for the same range, the heatmap has 168 cells with the expected peak, and a screenshot
//! is saved to `target/screenshots/dashboard-overview.png`.

use std::path::PathBuf;

use chrono::DateTime;
use fantoccini::Locator;
use footfall::store::EventRow;
use serde_json::{json, Value};

use crate::browser::{Browser, Prefs};

use crate::helpers::{spawn_app, TestApp, SITE};
use crate::reports::{get_report, ADMIN};

// ---- the dataset -------------------------------------------------------------------------

fn event(ts: &str, path: &str, visitor: u64) -> EventRow {
    EventRow {
        site: SITE.into(),
        ts: DateTime::parse_from_rfc3339(ts).unwrap().timestamp() as u32,
        name: "pageview".into(),
        hostname: SITE.into(),
        path: path.into(),
        referrer_host: "www.google.com".into(),
        referrer_path: "/".into(),
        source_class: "search".into(),
        visitor,
        session: visitor * 10,
        entry: 1,
        browser: "Firefox".into(),
        os: "Linux".into(),
        device: "desktop".into(),
        country: "DE".into(),
        screen: "desktop".into(),
        ..EventRow::default()
    }
}

/// The range shown: Monday 2026-02-02 to Sunday 2026-02-08 (London is on UTC then).
const FROM: &str = "2026-02-02";
const TO: &str = "2026-02-08";

/// Views on every day of the range, the most on Wednesday 14:00-15:00 (5 views), fewer
/// in the week before (for the change vs the previous period), and engagement.
fn dataset() -> Vec<EventRow> {
    let mut events = Vec::new();
    for (day, count) in [(2, 2), (3, 1), (4, 3), (5, 2), (6, 1), (7, 4), (8, 1)] {
        for i in 0..count {
            let path = if i % 2 == 0 { "/" } else { "/blog/launch" };
            events.push(event(&format!("2026-02-{day:02}T09:{:02}:00Z", i * 5), path, 100 + day * 10 + i));
        }
    }
    for i in 0..5 {
        events.push(event(&format!("2026-02-04T14:{:02}:00Z", i * 10), "/pricing", 500 + i));
    }
    for i in 0..3 {
        let mut engaged = event(&format!("2026-02-04T14:{:02}:30Z", i * 10), "/pricing", 500 + i);
        (engaged.name, engaged.engaged_ms) = ("engagement".into(), 20_000 + 25_000 * i as u32);
        events.push(engaged);
    }
    for day in 26..=31 {
        events.push(event(&format!("2026-01-{day}T10:00:00Z"), "/", 900 + day));
    }
    events
}

async fn api(app: &TestApp, report: &str, query: &str) -> Value {
    let response = get_report(app, report, query).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn sum(rows: &Value, column: &str) -> f64 {
    rows.as_array().unwrap().iter().map(|row| row[column].as_f64().unwrap()).sum()
}

/// The text of `data-value` of the first element matching `selector`, as a number.
async fn value_of(browser: &Browser, selector: &str) -> f64 {
    let script = format!("return Number(document.querySelector({}).dataset.value)", json!(selector));
    browser.js(&script).await.as_f64().unwrap()
}

#[tokio::test]
async fn the_overview_renders_the_reports_numbers_and_the_heatmap() {
    let app = spawn_app().await;
    app.store.insert_events(&dataset()).await.unwrap();
    let browser = Browser::launch_with(Prefs { window_height: Some(2300), ..Prefs::default() }).await;

    // Without a session: the login form. Log in with the admin token.
    browser.open(&format!("{}/dashboard/{SITE}?from={FROM}&to={TO}", app.address)).await;
    browser.wait_until("return document.getElementById('token') !== null").await;
    let field = browser.client.find(Locator::Css("#token")).await.unwrap();
    field.send_keys(ADMIN).await.unwrap();
    browser.client.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    // The login form was on /dashboard/{SITE}?from=..., so wait for the redirect's page
    // (no query) to have loaded: opening the next page before that races the redirect,
    // which could then replace it with the default range.
    browser
        .wait_until(&format!(
            "return location.pathname == '/dashboard/{SITE}' && location.search == '' \
             && document.getElementById('main') !== null && document.readyState == 'complete'"
        ))
        .await;

    browser.open(&format!("{}/dashboard/{SITE}?from={FROM}&to={TO}", app.address)).await;
    browser.wait_until("return document.getElementById('main').dataset.loaded == 'true'").await;
    assert_eq!(browser.js("return document.querySelectorAll('.panel.failed').length").await, json!(0));
    assert_eq!(browser.js("return document.getElementById('site-tz').textContent").await, json!("Europe/London"));

    // The numbers equal the reports API's for the same range and the one before.
    let query = format!("from={FROM}&to={TO}");
    let series = api(&app, "timeseries", &query).await;
    let previous = api(&app, "timeseries", "from=2026-01-26&to=2026-02-01").await;
    assert_eq!(value_of(&browser, "#panel-0 .big").await, sum(&series["rows"], "visitors"));
    assert_eq!(value_of(&browser, "#panel-1 .big").await, sum(&series["rows"], "views"));
    assert_eq!(sum(&series["rows"], "views"), 19.0, "the dataset's views in the range");
    let change = browser.js("return document.querySelector('#panel-1 .change').dataset.previous").await;
    assert_eq!(change, json!(sum(&previous["rows"], "views").to_string()));
    assert_eq!(
        browser.js("return document.querySelector('#panel-1 .change').textContent").await,
        json!("▲ +217% vs previous period (6)")
    );
    let top = api(&app, "top-content", &format!("{query}&limit=1000")).await;
    let rows = top["rows"].as_array().unwrap();
    let weighted: f64 =
        rows.iter().map(|r| r["avg_engaged_seconds"].as_f64().unwrap() * r["views"].as_f64().unwrap()).sum();
    let engaged = (weighted / sum(&top["rows"], "views") * 10.0).round() / 10.0;
    assert_eq!(value_of(&browser, "#panel-2 .big").await, engaged);
    assert_eq!(browser.js("return document.querySelector('#panel-2 .big').textContent").await, json!("7s"));
    let first = browser
        .js("return [...document.querySelectorAll('#panel-6 tbody tr:first-child [data-column]')]\
             .map((c, i) => i == 0 ? c.dataset.value : Number(c.dataset.value))")
        .await;
    let want = &api(&app, "top-content", &format!("{query}&limit=10")).await["rows"][0];
    let columns = ["views", "visitors", "entries", "avg_engaged_seconds"];
    assert_eq!(first[0], want["path"]);
    let shown: Vec<f64> = first.as_array().unwrap()[1..].iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(shown, columns.map(|column| want[column].as_f64().unwrap()));

    // The heatmap: 168 cells, the peak on Wednesday 14:00 with the API's views.
    let busiest = api(&app, "busiest-times", &query).await;
    assert_eq!(busiest["peak"], json!({"weekday": 3, "hour": 14, "views": 5, "visitors": 5}));
    assert_eq!(browser.js("return document.querySelectorAll('.heatmap rect.cell').length").await, json!(168));
    let peak = browser
        .js("var p = document.querySelectorAll('.heatmap rect.cell.peak'); \
        return [p.length, p[0].dataset.weekday, p[0].dataset.hour, p[0].dataset.views]")
        .await;
    assert_eq!(peak, json!([1, "3", "14", "5"]));
    let callout = browser.js("return document.querySelector('.peak-callout').textContent").await;
    assert_eq!(callout, json!("Busiest: Wed 14:00–15:00: 5 views, 5 visitors (Europe/London)"));

    let screenshot = browser.client.screenshot().await.unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dashboard-overview.png"), &screenshot).unwrap();
    assert_eq!(&screenshot[1..4], b"PNG");
    browser.quit().await;
}
