//! A real browser for the beacon tests: Debian's Chromium, headless, driven through
//! chromedriver by fantoccini (WebDriver), and a loopback server for the test pages.
//!
//! Each [`Browser`] is its own chromedriver process with one Chromium session and a fresh
//! profile directory, removed when it quits. Chromium runs with a desktop Chrome user
//! agent (footfall treats `HeadlessChrome` as a bot), time zone [`TIME_ZONE`] and a
//! 1440 px screen, so the tests know the time zone and screen the beacon reports.
//! Test pages carry an instrumentation script that records, per document, every request
//! the page's scripts start (`sendBeacon`, `fetch`, XHR), every uncaught error, console
//! output and visibility change: the tests assert on those as well as on ClickHouse rows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::helpers::{eventually_eq, eventually_matches};

/// Debian's Chromium and its driver (packages `chromium` and `chromium-driver`; scripts/test
/// installs them).
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The user agent Chromium sends: desktop Chrome on Linux, not `HeadlessChrome`.
pub const BROWSER_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/// The browser's time zone (Chromium reads `TZ`), which footfall maps to country JP.
pub const TIME_ZONE: &str = "Asia/Tokyo";
/// Screen width Chromium reports, which footfall classes as `desktop`.
pub const SCREEN_WIDTH: u32 = 1440;

/// At most two browsers at once: the machines have two cores.
static BROWSER_SLOTS: Semaphore = Semaphore::const_new(2);

/// Runs before every script of a test page: records what the page's scripts send,
/// uncaught errors, console output and visibility changes, per document.
const INSTRUMENTATION: &str = r#"
window.__sent = []; window.__errors = []; window.__console = []; window.__visibility = [];
addEventListener('error', function (e) { __errors.push(String(e.message)); });
addEventListener('unhandledrejection', function (e) { __errors.push('unhandled rejection: ' + e.reason); });
['log', 'info', 'warn', 'error', 'debug'].forEach(function (level) {
  var original = console[level];
  console[level] = function () { __console.push(level + ': ' + [].join.call(arguments, ' ')); return original.apply(console, arguments); };
});
document.addEventListener('visibilitychange', function () { __visibility.push(document.visibilityState); });
var sendBeacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = function (url, body) { __sent.push({via: 'beacon', url: String(url), body: String(body)}); return sendBeacon(url, body); };
var fetch0 = window.fetch;
window.fetch = function (url, init) { __sent.push({via: 'fetch', url: String(url), body: String(init && init.body)}); return fetch0.apply(this, arguments); };
var open0 = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url) { __sent.push({via: 'xhr', url: String(url)}); return open0.apply(this, arguments); };
"#;

/// A test page: the instrumentation, `head` (meta tags, scripts that run before the
/// beacon), the beacon's tag with `data-site="localhost"` plus `attributes`, and `body`.
pub fn tagged_page(collector: &str, attributes: &str, head: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>footfall test page</title>\n\
         <script>{INSTRUMENTATION}</script>\n{head}\n\
         <script defer src=\"{collector}/js/footfall.js\" data-site=\"localhost\"{attributes}></script>\n\
         </head><body>{body}</body></html>\n"
    )
}

/// A page without the beacon.
pub fn plain_page(body: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>plain</title></head><body>{body}</body></html>\n"
    )
}

/// Chromium preferences for a profile.
#[derive(Default)]
pub struct Prefs {
    /// Settings > Privacy > Send a "Do Not Track" request.
    pub do_not_track: bool,
    /// Block all cookies (and with them, site storage).
    pub block_cookies: bool,
    /// Window height in pixels, for full-page screenshots; default 900.
    pub window_height: Option<u32>,
}

impl Prefs {
    fn to_json(&self) -> Value {
        let mut prefs = serde_json::Map::new();
        if self.do_not_track {
            prefs.insert("enable_do_not_track".into(), json!(true));
        }
        if self.block_cookies {
            prefs.insert("profile.default_content_setting_values.cookies".into(), json!(2));
        }
        Value::Object(prefs)
    }
}

/// One Chromium under its own chromedriver, with a fresh profile.
pub struct Browser {
    pub client: Client,
    driver: tokio::process::Child,
    /// The profile directory, removed when the browser drops, after its processes have
    /// ended ([`Drop`]).
    _profile: tempfile::TempDir,
    _slot: SemaphorePermit<'static>,
}

impl Browser {
    /// A fresh profile with default preferences.
    pub async fn launch() -> Self {
        Self::launch_with(Prefs::default()).await
    }

    /// A fresh profile with `prefs`.
    pub async fn launch_with(prefs: Prefs) -> Self {
        let slot = BROWSER_SLOTS.acquire().await.expect("the semaphore is never closed");
        let port = free_port();
        let profile = crate::helpers::temp_dir("chromium");
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("TZ", TIME_ZONE)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            // Chromium runs in chromedriver's process group, so dropping a Browser whose
            // test panicked can end both at once (see Drop).
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("{CHROMEDRIVER} does not start ({error}); scripts/test installs it"));
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-crash-reporter",
        ]
        .iter()
        .map(|arg| arg.to_string())
        .chain([
            format!("--window-size={SCREEN_WIDTH},{}", prefs.window_height.unwrap_or(900)),
            format!("--screen-info={{{SCREEN_WIDTH}x{}}}", prefs.window_height.unwrap_or(900)),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--user-agent={BROWSER_UA}"),
        ])
        .collect::<Vec<_>>();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities
            .insert("goog:chromeOptions".into(), json!({"binary": CHROMIUM, "args": args, "prefs": prefs.to_json()}));
        let webdriver = format!("http://127.0.0.1:{port}");
        let session = eventually_matches("no Chromium session from chromedriver", Result::is_ok, || async {
            ClientBuilder::new(HttpConnector::new()).capabilities(capabilities.clone()).connect(&webdriver).await
        })
        .await;
        let client = session.expect("eventually_matches returns a session");
        Self { client, driver, _profile: profile, _slot: slot }
    }

    /// Ends the session (Chromium quits) and chromedriver; dropping `self` removes the
    /// profile.
    pub async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }

    /// Opens `url` and waits for its load event.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|error| panic!("script failed: {error}\n{script}"))
    }

    /// Clicks the element matching the CSS `selector`.
    pub async fn click(&self, selector: &str) {
        self.client.find(Locator::Css(selector)).await.expect("element exists").click().await.expect("click works");
    }

    /// Polls until `script` returns `true`.
    pub async fn wait_until(&self, script: &str) {
        eventually_eq(format!("the value of `{script}`"), json!(true), || self.js(script)).await;
    }

    /// Waits until the current document is `path` (no query) and loaded.
    pub async fn wait_for_path(&self, path: &str) {
        let script = format!("return location.pathname == {} && document.readyState == 'complete'", json!(path));
        self.wait_until(&script).await;
    }

    /// Makes the page's viewport `width` × `height` CSS pixels (a phone at 375, a laptop
    /// at 1280) and waits until the page sees that width.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.expect("the window resizes");
        // The window may be wider than its viewport (scroll bars, frame): make up for it.
        let inner = self.js("return innerWidth").await.as_u64().unwrap() as u32;
        if inner != width {
            self.client.set_window_size(2 * width - inner, height).await.expect("the window resizes");
        }
        self.wait_until(&format!("return innerWidth == {width}")).await;
    }

    /// Saves a screenshot of the viewport to `target/screenshots/{name}.png`.
    pub async fn save_screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        assert_eq!(&png[1..4], b"PNG");
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    }

    /// Hides the page as a visitor does, by switching to another tab, and shows it again.
    /// Returns once the page has seen both visibility changes.
    pub async fn hide_and_show(&self) {
        let before = self.js("return __visibility.length").await.as_u64().unwrap();
        let page = self.client.window().await.unwrap();
        let tab = self.client.new_window(true).await.unwrap().handle;
        self.client.switch_to_window(tab).await.unwrap();
        self.client.close_window().await.unwrap();
        self.client.switch_to_window(page).await.unwrap();
        self.wait_until(&format!("return __visibility.slice({before}).join() == 'hidden,visible'")).await;
    }

    /// What the page's scripts sent (see the instrumentation), parsed.
    pub async fn sent(&self) -> Vec<Value> {
        serde_json::from_value(self.js("return __sent").await).unwrap()
    }

    /// Fails the test if the page saw an uncaught error or console output.
    pub async fn assert_quiet(&self) {
        assert_eq!(self.js("return __errors").await, json!([]), "uncaught errors in the page");
        assert_eq!(self.js("return __console").await, json!([]), "console output in the page");
    }

    /// Names of the cookies the browser holds for the current page.
    pub async fn cookie_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.client.get_all_cookies().await.unwrap().iter().map(|cookie| cookie.name().to_string()).collect();
        names.sort();
        names
    }

    /// The value of cookie `name` for the current page.
    pub async fn cookie(&self, name: &str) -> String {
        self.client.get_named_cookie(name).await.expect("cookie is set").value().to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // After a failed assertion: end chromedriver and Chromium (one process group).
        if let Ok(None) = self.driver.try_wait() {
            // `--` before the negative process group: without it procps-ng 4's `kill`
            // reads `-PID` as an option and signals every process (`kill(-1)`).
            if let Some(pid) = self.driver.id().filter(|&pid| pid > 1) {
                let _ = std::process::Command::new("kill").args(["-s", "KILL", "--", &format!("-{pid}")]).status();
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Serves test pages on a loopback port, by path (the query is ignored), to any host
/// name: tests open them as `localhost` (the registered site) or `127.0.0.1` (elsewhere).
#[derive(Clone)]
pub struct PageServer {
    pub port: u16,
    pages: Arc<Mutex<HashMap<String, String>>>,
}

impl PageServer {
    /// Starts serving; the server ends with the test's runtime.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Self { port: listener.local_addr().unwrap().port(), pages: Arc::default() };
        let pages = Arc::clone(&server.pages);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_one(stream, Arc::clone(&pages)));
            }
        });
        server
    }

    /// Serves `html` at `path`.
    pub fn put(&self, path: &str, html: String) {
        self.pages.lock().unwrap().insert(path.to_string(), html);
    }

    /// `http://{host}:{port}{path}`.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }
}

async fn serve_one(mut stream: tokio::net::TcpStream, pages: Arc<Mutex<HashMap<String, String>>>) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let target = text.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let page = pages.lock().unwrap().get(path).cloned();
    let (status, body) = match page {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", plain_page("not found")),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
