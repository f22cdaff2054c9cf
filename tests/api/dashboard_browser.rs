//! The dashboard in a real browser (Debian's Chromium, headless, through chromedriver):
//! after seeding known events, the overview renders, its numbers equal the reports API's
//! for the same range, the heatmap has 168 cells with the expected peak, and a screenshot
//! is saved to `target/screenshots/dashboard-overview.png`.
//!
//! The browser harness is the small part of main's `tests/api/browser.rs` these tests need
//! (one Chromium per test under its own chromedriver, a desktop user agent).

use std::path::PathBuf;
use std::time::Duration;

use chrono::DateTime;
use fantoccini::{Client, ClientBuilder, Locator};
use footfall::store::EventRow;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::helpers::{spawn_app, TestApp, POLL_LIMIT, SITE};
use crate::reports::{get_report, ADMIN};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Desktop Chrome, not `HeadlessChrome` (which footfall treats as a bot).
const BROWSER_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/// At most two browsers at once: the machines have two cores.
static BROWSER_SLOTS: Semaphore = Semaphore::const_new(2);

struct Browser {
    client: Client,
    driver: tokio::process::Child,
    profile: PathBuf,
    _slot: SemaphorePermit<'static>,
}

impl Browser {
    async fn launch() -> Self {
        let slot = BROWSER_SLOTS.acquire().await.expect("the semaphore is never closed");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let profile = std::env::temp_dir().join(format!("footfall-chromium-{}", crate::helpers::fresh_database()));
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("{CHROMEDRIVER} does not start ({error}); scripts/test installs it"));
        let args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-crash-reporter",
            "--window-size=1440,2300",
            "--hide-scrollbars",
        ]
        .iter()
        .map(|arg| arg.to_string())
        .chain([format!("--user-data-dir={}", profile.display()), format!("--user-agent={BROWSER_UA}")])
        .collect();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), json!({"binary": CHROMIUM, "args": args}));
        let webdriver = format!("http://127.0.0.1:{port}");
        let started = std::time::Instant::now();
        let client = loop {
            match ClientBuilder::new(HttpConnector::new()).capabilities(capabilities.clone()).connect(&webdriver).await
            {
                Ok(client) => break client,
                Err(error) => {
                    assert!(started.elapsed() < POLL_LIMIT, "no Chromium session from chromedriver: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        Self { client, driver, profile, _slot: slot }
    }

    async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }

    async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|error| panic!("script failed: {error}\n{script}"))
    }

    async fn wait_until(&self, script: &str) {
        let started = std::time::Instant::now();
        while self.js(script).await != json!(true) {
            assert!(started.elapsed() < POLL_LIMIT, "still false after {POLL_LIMIT:?}: {script}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // After a failed assertion: end chromedriver and Chromium (one process group).
        if let Ok(None) = self.driver.try_wait() {
            if let Some(pid) = self.driver.id() {
                let _ = std::process::Command::new("kill").arg("-KILL").arg(format!("-{pid}")).status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

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
    let browser = Browser::launch().await;

    // Without a session: the login form. Log in with the admin token.
    browser.open(&format!("{}/dashboard/{SITE}?from={FROM}&to={TO}", app.address)).await;
    browser.wait_until("return document.getElementById('token') !== null").await;
    let field = browser.client.find(Locator::Css("#token")).await.unwrap();
    field.send_keys(ADMIN).await.unwrap();
    browser.client.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    browser.wait_until(&format!("return location.pathname == '/dashboard/{SITE}'")).await;

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
